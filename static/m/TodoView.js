// 我的待办: overdue first, then by deadline; filters for what is mine,
// several states, due soon, a courtyard address, a case number.
import { computed, ref, onMounted, onUnmounted } from 'vue';
import { state, caseList, syncNow, isOpen } from './state.js';
import { when } from './format.js';
import { deadlineClass, live } from 'minsheng/deadline';
import SyncBadge from './SyncBadge.js';

export default {
  name: 'TodoView',
  components: { SyncBadge },
  setup() {
    const tab = ref('mine');
    const search = ref('');
    const refreshing = ref(false);
    const tick = ref(Date.now());
    let timer = 0;
    onMounted(() => {
      timer = setInterval(() => (tick.value = Date.now()), 60000);
    });
    onUnmounted(() => clearInterval(timer));
    const list = computed(() => {
      const q = search.value.trim().toLowerCase();
      return caseList()
        .map((c) => ({ ...c, deadline: live(c.deadline, tick.value, state.boot?.deadline_words) }))
        .filter((c) => {
          // To do: open cases, and those still offering a step (a return visit).
          if (!c.local && !isOpen(c.status) && !(c.actions || []).length) return tab.value === 'all';
          if (tab.value === 'mine') return c.local || c.assigned_to_me || !c.assigned_to;
          if (tab.value === 'overdue') return c.deadline?.overdue;
          if (tab.value === 'soon') return c.deadline?.due_soon;
          return true;
        })
        .filter((c) => !q || (c.location?.address || '').toLowerCase().includes(q) || (c.number || '').toLowerCase().includes(q) || (c.title || '').includes(q))
        .sort((a, b) => {
          const ao = a.deadline?.overdue ? 0 : 1;
          const bo = b.deadline?.overdue ? 0 : 1;
          if (ao !== bo) return ao - bo;
          const ad = a.deadline?.due_at || '9999';
          const bd = b.deadline?.due_at || '9999';
          return ad < bd ? -1 : ad > bd ? 1 : (b.filed_at || '').localeCompare(a.filed_at || '');
        });
    });
    const counts = computed(() => state.me?.counts || {});
    async function onRefresh() {
      await syncNow({ force: true });
      refreshing.value = false;
    }
    return { tab, search, list, counts, refreshing, onRefresh, deadlineClass, when, state };
  },
  template: `
  <div class="page">
    <van-nav-bar title="我的待办"><template #right><sync-badge /></template></van-nav-bar>
    <van-search v-model="search" placeholder="院落地址、案件编号或标题" shape="round" />
    <van-tabs v-model:active="tab" shrink>
      <van-tab name="mine" title="我的" />
      <van-tab name="overdue" :title="'已超期' + (counts.overdue ? ' ' + counts.overdue : '')" />
      <van-tab name="soon" :title="'24小时内' + (counts.due_soon ? ' ' + counts.due_soon : '')" />
      <van-tab name="all" title="全部" />
    </van-tabs>
    <van-pull-refresh v-model="refreshing" @refresh="onRefresh">
      <van-empty v-if="!list.length" description="暂无案件" />
      <van-cell-group v-else inset style="margin-top:8px">
        <van-cell v-for="c in list" :key="c.id" :to="'/case/' + c.id" is-link data-test="case-row">
          <template #title>
            <div class="case-title">{{ c.title }}</div>
            <div class="muted">{{ c.number }} · {{ c.location && c.location.address }}</div>
          </template>
          <template #label>
            <van-tag :type="c.local ? 'warning' : 'primary'" plain>{{ c.local ? '待发送' : c.status_label }}</van-tag>
            <van-tag v-if="c.failedSteps && c.failedSteps.length" type="danger" style="margin-left:4px">{{ c.failedSteps.length }} 步未能发送</van-tag>
            <van-tag v-else-if="c.pendingSteps && c.pendingSteps.length" type="warning" plain style="margin-left:4px">{{ c.pendingSteps.length }} 步待发送</van-tag>
            <span v-if="c.deadline" :class="deadlineClass(c.deadline)" style="margin-left:6px">{{ c.deadline.text }}</span>
          </template>
        </van-cell>
      </van-cell-group>
    </van-pull-refresh>
  </div>`,
};
