// 我的: who is signed in, sync status with what waits and why, storage,
// 立即同步, and signing out (warning when items still wait on the phone).
import { computed, ref, onMounted, onUnmounted } from 'vue';
import { useRouter } from 'vue-router';
import { showConfirmDialog, showToast } from 'vant';
import { state, syncNow, signOut, countOutbox, reviseFiling, caseOf, discardItem } from './state.js';
import { outbox, describe, refOf } from './outbox.js';
import { clockSeconds, when } from './format.js';
import SyncBadge from './SyncBadge.js';

export default {
  name: 'MeView',
  components: { SyncBadge },
  setup() {
    const router = useRouter();
    const items = ref([]);
    const ROUTES = { assess: 'assess', start: 'work/start', complete: 'work/complete', verdict: 'verdict' };
    const storage = ref('');
    async function refresh() {
      // Each item with what it waits for: a refused one holds back the
      // later items of its case (and only those).
      const held = new Map();
      items.value = (await countOutbox()).map((it) => {
        const ref = refOf(it);
        const behind = held.get(ref);
        if (!held.has(ref) || it.failed) held.set(ref, it.failed ? 'failed' : behind || 'queued');
        return { ...it, behind: behind === 'failed' ? 'failed' : '' };
      });
      const est = await navigator.storage?.estimate?.();
      if (est) storage.value = `已用 ${(est.usage / 1048576).toFixed(1)} MB`;
    }
    onMounted(refresh);
    onUnmounted(outbox.onChange(refresh));
    const user = computed(() => state.me?.user || state.session?.user || {});
    async function now() {
      if (navigator.onLine === false) showToast('没有网络，恢复后会自动发送');
      await syncNow({ force: true });
      await refresh();
    }
    function status(it) {
      if (it.failed) return `未能发送：${it.lastError}${hint(it)}`;
      if (it.behind) return '等待本案件前一条处理后再发送';
      if (it.lastError) return `稍后重试：${it.lastError}${it.retryAt ? '（' + clockSeconds(it.retryAt) + ' 自动重试）' : ''}`;
      return '排队于 ' + when(it.queuedAt);
    }
    // What to do about a refusal, in the cadre's words.
    function hint(it) {
      if (!canRevise(it)) return '';
      if (it.status === 409) return '。点「修改」按案件的最新情况重新提交，或「放弃」';
      if (it.status === 400 || it.status === 422) return '。点「修改」更正后再发送';
      return '';
    }
    const canRevise = (it) => it.kind === 'create' || (it.kind === 'action' && ROUTES[it.action]);
    async function revise(it) {
      if (it.kind === 'create') {
        const id = await reviseFiling(it);
        router.push({ path: '/file', query: { draft: id } });
        return;
      }
      const id = await caseOf(it);
      router.push({ path: `/case/${id}/${ROUTES[it.action]}`, query: { redo: it.key } });
    }
    async function discard(it) {
      const what = it.kind === 'create' ? `「${describe(it)}」及其照片` : `「${describe(it)}」`;
      await showConfirmDialog({ title: '放弃这一条？', message: `${what}不会再发送，本机记录将删除。`, confirmButtonText: '放弃', confirmButtonColor: '#ee0a24' });
      await discardItem(it);
      await refresh();
    }
    async function retry(it) {
      await outbox.update(it.key, { failed: false, retryAt: '' });
      await now();
    }
    async function logout() {
      await countOutbox();
      const n = state.pending; // steps, not requests
      if (n > 0 || state.drafts > 0) {
        const what = [n ? `本机待发送 ${n} 条` : '', state.drafts ? `草稿 ${state.drafts} 份` : ''].filter(Boolean).join('，');
        await showConfirmDialog({
          title: '退出登录', message: `${what}，退出后将丢失。${n ? '请先联网同步。' : ''}仍要退出吗？`,
          confirmButtonText: '仍要退出', confirmButtonColor: '#ee0a24', cancelButtonText: '先同步',
        }).catch(() => {
          throw new Error('cancelled');
        });
      }
      await signOut();
      router.replace('/login');
    }
    return { state, user, items, storage, describe, status, canRevise, revise, when, now, discard: (it) => discard(it).catch(() => {}), retry, logout: () => logout().catch(() => {}) };
  },
  template: `
  <div class="page">
    <van-nav-bar title="我的"><template #right><sync-badge /></template></van-nav-bar>
    <van-cell-group inset style="margin-top:8px">
      <van-cell :title="user.name || user.username" :label="(state.me && state.me.role_label) || '社区干部'" :value="state.me && state.me.community_name" />
      <van-cell title="本机" :value="state.session && state.session.device" />
    </van-cell-group>
    <van-cell-group inset title="本机待发送" v-if="items.length">
      <van-cell v-for="it in items" :key="it.key" :title="describe(it)" data-test="outbox-item" :data-failed="it.failed ? '1' : null">
        <template #label>
          <div :class="it.failed ? 'red' : 'muted'">{{ status(it) }}</div>
          <div v-if="it.failed" class="item-actions">
            <van-button v-if="canRevise(it)" size="small" type="primary" @click="revise(it)" data-test="outbox-revise">修改</van-button>
            <van-button size="small" type="primary" plain @click="retry(it)" data-test="outbox-retry">重试</van-button>
            <van-button size="small" type="danger" plain @click="discard(it)" data-test="outbox-discard">放弃</van-button>
          </div>
        </template>
      </van-cell>
    </van-cell-group>
    <van-cell-group inset title="同步">
      <van-cell title="网络" :value="state.online ? '在线' : '离线'" :value-class="state.online ? 'green' : 'orange'" />
      <van-cell title="待发送" :value="state.pending + ' 条'" data-test="pending" />
      <van-cell title="上次同步" :value="state.lastSyncAt ? when(state.lastSyncAt) : '从未'" />
      <van-cell v-if="state.lastError" title="原因" :label="state.lastError" label-class="orange" />
      <div class="pad"><van-button block round type="primary" :loading="state.syncing" :disabled="state.syncing" @click="now" data-test="sync-now">立即同步</van-button></div>
    </van-cell-group>
    <van-cell-group inset title="存储">
      <van-cell title="本机存储" :value="storage" />
      <van-cell title="防止被系统清除" :value="state.persisted ? '已开启' : '未开启'" :label="state.persisted ? '' : '建议将本应用添加到主屏幕，浏览器会更可靠地保留本机数据'" />
    </van-cell-group>
    <div class="pad"><van-button block round type="danger" plain @click="logout" data-test="logout">退出登录</van-button></div>
  </div>`,
};
