// 我的诉求: every case the resident filed, co-signed, or that a cadre filed
// for their phone number, newest first, paged.
import { onMounted, watch } from 'vue';
import { useRouter } from 'vue-router';
import { api, state, loadMe, when, pagedList } from './shared.js';
import { SignInForm } from './SignInPage.js';

export default {
  name: 'MinePage',
  components: { SignInForm },
  setup() {
    const router = useRouter();
    const { items, next, loading, finished, error, load } = pagedList((cursor) => api.get('/api/v1/me/cases', cursor ? { cursor } : {}));
    onMounted(async () => {
      if (!state.loaded) await loadMe().catch(() => {});
      if (state.user && !loading.value) load(false); // unless the watch below has started it
    });
    // Signing in here swaps the form for the list as soon as the user is
    // known, which unmounts the form before it can say it is done: the
    // list follows the signed-in user instead (and a sign-out empties it).
    watch(() => state.user?.id, (id, was) => {
      if (id === was) return;
      items.value = [];
      next.value = '';
      finished.value = false;
      if (id) load(false);
    });
    const tag = (c) => ({ closed: 'success', completed: 'warning', rejected: 'danger' }[c.status] || 'primary');
    // A completed case waits for its filer's verdict: say so in the list,
    // or the resident never opens it to rate.
    const label = (c) => {
      if (c.status === 'closed' && c.verdict) return '已评价';
      if (c.status === 'completed' && c.filer_id) return '待您评价';
      return c.status_label;
    };
    const relation = (c) => (c.filer_id ? (c.filed_by_role && c.filed_by_role !== 'resident' ? '社区代为登记' : '我提交的') : '我附议的');
    return { state, items, loading, finished, error, load, tag, label, relation, when, router };
  },
  template: `
  <div>
    <template v-if="!state.user && state.loaded">
      <div class="section-title">登录后查看您提交、附议以及社区代为登记的诉求</div>
      <SignInForm />
      <div class="privacy-link">匿名提交的诉求请使用提交时保存的查询链接查看</div>
    </template>
    <template v-else-if="state.user">
      <van-empty v-if="!items.length && finished && !error" description="还没有诉求">
        <van-button round type="primary" @click="router.push('/')">我有诉求</van-button>
      </van-empty>
      <van-empty v-if="error" image="error" :description="error" />
      <van-list :loading="loading" :finished="finished" finished-text="" @load="load(true)" :immediate-check="false">
        <div v-for="c in items" :key="c.id" class="case-card" @click="router.push('/mine/' + c.id)" data-test="my-case">
          <div class="row">
            <div class="title">{{ c.title }}</div>
            <van-tag :type="tag(c)">{{ label(c) }}</van-tag>
          </div>
          <div class="meta">{{ c.number }} · {{ c.area_label }} · {{ relation(c) }} · {{ when(c.filed_at) }}</div>
        </div>
      </van-list>
    </template>
  </div>`,
};
