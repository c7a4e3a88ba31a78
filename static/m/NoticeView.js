// 通知: newly assigned, deadline within 24 hours or passed, verdicts,
// money linked or waitlisted.
import { useRouter } from 'vue-router';
import { state, markAllRead, syncNow } from './state.js';
import { when } from './format.js';
import SyncBadge from './SyncBadge.js';

const ICONS = { assigned: 'send-gift-o', due_soon: 'clock-o', overdue: 'warning-o', verdict: 'smile-comment-o', budget: 'balance-o' };

export default {
  name: 'NoticeView',
  components: { SyncBadge },
  setup() {
    const router = useRouter();
    function open(n) {
      if (state.cases[n.case_id]) router.push(`/case/${n.case_id}`);
    }
    return { state, ICONS, when, open, markAllRead, syncNow };
  },
  template: `
  <div class="page">
    <van-nav-bar title="通知"><template #right><sync-badge /></template></van-nav-bar>
    <div class="pad row" v-if="state.notices.length">
      <span class="muted grow">{{ state.unread ? state.unread + ' 条未读' : '全部已读' }}</span>
      <van-button size="small" round :disabled="!state.unread || !state.online" @click="markAllRead">全部标为已读</van-button>
    </div>
    <van-empty v-if="!state.notices.length" description="暂无通知" />
    <van-cell-group inset v-else>
      <van-cell v-for="n in state.notices" :key="n.id" :icon="ICONS[n.kind]" is-link @click="open(n)" data-test="notice">
        <template #title><span :style="{ fontWeight: n.read ? 400 : 600 }">{{ n.title }}</span> <van-badge v-if="!n.read" dot /></template>
        <template #label>{{ n.text }}<br>{{ n.case_number }} · {{ when(n.at) }}</template>
      </van-cell>
    </van-cell-group>
  </div>`,
};
