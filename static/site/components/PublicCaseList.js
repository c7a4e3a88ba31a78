// A list of public cases in their public view (cases/public.go): title,
// status in the server's words, area, community, filing date, co-signs;
// a card opens the public case view. The page around it pages and picks
// the community.
import { useRouter } from 'vue-router';
import { day } from './shared.js';

export default {
  name: 'PublicCaseList',
  props: { items: { type: Array, required: true }, loading: Boolean, finished: Boolean },
  emits: ['load'],
  setup() {
    const router = useRouter();
    // Colour only; the words are the view's status_label.
    const tag = (c) => ({ closed: 'success', completed: 'success', rejected: 'danger', cancelled: 'default', merged: 'default' }[c.status] || 'primary');
    const open = (c) => router.push(`/gongkai/cases/${encodeURIComponent(c.id)}`);
    return { tag, open, day };
  },
  template: `
  <van-list :loading="loading" :finished="finished" finished-text="没有更多了" @load="$emit('load')" :immediate-check="false">
    <div v-for="c in items" :key="c.id" class="case-card public-case" @click="open(c)" data-test="public-case">
      <div class="row">
        <div class="title">{{ c.title }}</div>
        <van-tag :type="tag(c)" data-test="public-case-status">{{ c.status_label }}</van-tag>
      </div>
      <div class="meta">{{ c.area_label }} · {{ c.community_name }} · 提交于 {{ day(c.filed_at) }}<template v-if="c.cosign_count"> · <span class="cosigns">{{ c.cosign_count }} 人附议</span></template></div>
    </div>
  </van-list>`,
};
