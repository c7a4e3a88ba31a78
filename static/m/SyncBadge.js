// The honest sync badge in every header: what waits on the phone, whether
// it is being sent, and 立即同步.
import { computed } from 'vue';
import { state, syncNow } from './state.js';
import { clock } from './format.js';

export default {
  name: 'SyncBadge',
  setup() {
    const text = computed(() => {
      if (state.syncing) return '同步中…';
      // Short, so the page title beside it stays whole on a phone; the
      // banner and 我的 say the rest.
      if (state.failedCount) return `${state.failedCount} 条失败`;
      if (state.pending) return `${state.pending} 条待发送`;
      if (!state.online) return '离线';
      if (state.lastSyncAt) return `已同步 ${clock(state.lastSyncAt)}`;
      return '未同步';
    });
    const warn = computed(() => state.pending > 0 || !!state.failed);
    return { text, warn, state, syncNow };
  },
  template: `<span class="sync-pill" :class="{ warn }" role="status" data-test="sync-badge" @click="syncNow({ force: true })">{{ text }}</span>`,
};
