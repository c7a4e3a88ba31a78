// CaseTable is the dense case table every queue and the case list use.
import { useRouter } from 'vue-router';
import { yuan, dt, subName, communityName } from '../shared.js';
import DueFlag from './DueFlag.js';

export default {
  name: 'CaseTable',
  components: { DueFlag },
  // selectable adds a checkbox column; the selection is emitted as rows.
  props: { rows: { type: Array, default: () => [] }, loading: Boolean, selectable: Boolean },
  emits: ['selection-change'],
  setup() {
    const router = useRouter();
    const open = (row) => router.push(`/cases/${row.id}`);
    return { open, yuan, dt, subName, communityName };
  },
  template: `
  <el-table :data="rows" v-loading="loading" border stripe size="small" highlight-current-row @row-dblclick="open" empty-text="暂无诉求" style="width:100%" row-key="id" @selection-change="(sel) => $emit('selection-change', sel)">
    <el-table-column v-if="selectable" type="selection" width="36" />
    <el-table-column label="编号" width="130" sortable prop="number">
      <template #default="{ row }"><el-link type="primary" @click="open(row)">{{ row.number }}</el-link></template>
    </el-table-column>
    <el-table-column prop="title" label="标题" min-width="180" show-overflow-tooltip />
    <el-table-column label="状态" width="80" sortable prop="status"><template #default="{ row }">{{ row.status_label }}</template></el-table-column>
    <el-table-column label="时限" width="120"><template #default="{ row }"><DueFlag :c="row" /></template></el-table-column>
    <el-table-column prop="area_label" label="领域" width="80" />
    <el-table-column label="社区" width="130" show-overflow-tooltip><template #default="{ row }">{{ communityName(row.location?.community) }}</template></el-table-column>
    <el-table-column label="估算（元）" width="110" align="right" sortable :sort-method="(a,b)=>(a.assessment?.estimate_fen||0)-(b.assessment?.estimate_fen||0)">
      <template #default="{ row }"><span class="money">{{ row.assessment ? yuan(row.assessment.estimate_fen) : '—' }}</span></template>
    </el-table-column>
    <el-table-column label="资金" width="90"><template #default="{ row }">
      <el-tag v-if="row.budget?.reserved_fen > 0 || row.budget?.spent_fen > 0" type="success" size="small">已落实</el-tag>
      <el-tag v-else-if="row.budget" type="warning" size="small">已关联</el-tag>
      <span v-else class="muted">未关联</span>
    </template></el-table-column>
    <el-table-column label="承办人" width="90" prop="assigned_name" />
    <el-table-column label="登记时间" width="140" sortable prop="filed_at"><template #default="{ row }">{{ dt(row.filed_at) }}</template></el-table-column>
  </el-table>`,
};
