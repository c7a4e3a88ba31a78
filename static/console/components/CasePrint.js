// CasePrint is the 案件处理单, the sheet that goes into the paper file:
// the number, the resident's request, photos before and after, every step
// with who took it, the money linked and spent, the verdict and the
// deadlines, on A4 in Asia/Shanghai time. It is laid out on the case page
// and shown only when printing (console.css @media print), so 打印处理单
// prints what the server sent for this case, labels included.
import { computed } from 'vue';
import { yuan, dt, subName, communityName, caseLabels } from '../shared.js';

export default {
  name: 'CasePrint',
  props: { c: { type: Object, required: true }, lineName: String, itemName: String },
  setup(props) {
    const before = computed(() => (props.c.photos || []).filter((p) => p.tag === 'before'));
    const after = computed(() => (props.c.photos || []).filter((p) => p.tag !== 'before'));
    const printedAt = dt(new Date());
    return { before, after, printedAt, yuan, dt, subName, communityName, caseLabels };
  },
  template: `
  <section class="print-sheet" data-test="print-sheet">
    <h1>案件处理单</h1>
    <div class="print-meta"><span>编号：<b>{{ c.number }}</b></span><span>状态：{{ c.status_label }}</span><span>打印时间：{{ printedAt }}</span></div>
    <table class="print-grid">
      <tr><th>诉求标题</th><td colspan="3">{{ c.title }}</td></tr>
      <tr><th>诉求内容</th><td colspan="3" class="pre">{{ c.description }}</td></tr>
      <tr><th>街道</th><td>{{ subName(c.location?.sub_district) }}</td><th>社区</th><td>{{ communityName(c.location?.community) }}</td></tr>
      <tr><th>地址</th><td colspan="3">{{ c.location?.address || '—' }}</td></tr>
      <tr><th>领域</th><td>{{ c.area_label }}</td><th>分类</th><td>{{ c.catalog_item ? c.catalog_item + ' ' + (itemName || '') : '未分类' }}</td></tr>
      <tr><th>联系人</th><td>{{ c.contact_name || (c.anonymous ? '匿名' : '—') }}</td><th>联系电话</th><td>{{ c.contact_phone || '—' }}</td></tr>
      <tr><th>受益户数</th><td>{{ c.households }}</td><th>附议</th><td>{{ c.cosign_count }}</td></tr>
      <tr><th>登记时间</th><td>{{ dt(c.filed_at) }}</td><th>响应时限</th><td>{{ dt(c.response_due_at) }}</td></tr>
      <tr><th>受理时间</th><td>{{ dt(c.accepted_at) }}</td><th>办结时限</th><td>{{ dt(c.completion_due_at) }}</td></tr>
      <tr><th>办结时间</th><td>{{ dt(c.completed_at) }}</td><th>当前时限</th><td>{{ c.deadline_text || '—' }}</td></tr>
      <tr><th>承办人</th><td>{{ c.assigned_name || '—' }}</td><th>估算（元）</th><td class="money">{{ c.assessment ? yuan(c.assessment.estimate_fen) : '—' }}</td></tr>
      <tr><th>预算项目</th><td>{{ c.budget ? (lineName || c.budget.line_id) : '未关联' }}</td><th>预留 / 支出（元）</th><td class="money">{{ c.budget ? yuan(c.budget.reserved_fen) + ' / ' + yuan(c.budget.spent_fen) : '—' }}</td></tr>
      <tr><th>实际费用（元）</th><td class="money">{{ yuan(c.actual_cost_fen) }}</td><th>居民评价</th><td>{{ c.verdict_label || '—' }} {{ c.verdict_comment || '' }}</td></tr>
      <tr v-if="c.reason"><th>原因</th><td colspan="3">{{ c.reason }}</td></tr>
    </table>
    <h2>办理过程</h2>
    <table class="print-grid print-timeline">
      <thead><tr><th>时间</th><th>步骤</th><th>状态</th><th>经办人</th><th>说明</th></tr></thead>
      <tbody>
        <tr v-for="(e, i) in c.timeline" :key="i">
          <td class="nowrap">{{ dt(e.at) }}</td><td>{{ e.action_label || e.action }}</td>
          <td>{{ e.to ? (caseLabels.status[e.to] || e.to) : '' }}</td>
          <td>{{ e.actor_label || e.actor_name || '—' }}</td><td>{{ e.note }}</td>
        </tr>
      </tbody>
    </table>
    <h2>照片（办理前 / 办理后）</h2>
    <div class="print-photos">
      <div><div class="muted">办理前</div><img v-for="p in before" :key="p.id" :src="p.thumb_url || p.url" alt="办理前照片" /><span v-if="!before.length">无</span></div>
      <div><div class="muted">办理中 / 办结后</div><img v-for="p in after" :key="p.id" :src="p.thumb_url || p.url" alt="办理后照片" /><span v-if="!after.length">无</span></div>
    </div>
    <div class="print-sign"><span>经办人（签字）：</span><span>审核人（签字）：</span><span>日期：</span></div>
  </section>`,
};
