// 我的诉求 → one case, signed in. Photo links are short-lived, so the case
// is re-read (fresh links) whenever the page is shown again.
import { ref, onMounted, onBeforeUnmount } from 'vue';
import { useRouter } from 'vue-router';
import { api, state, loadMe, errorText } from './shared.js';
import { photoForm } from './photos.js';
import CaseView from './CaseView.js';

export default {
  name: 'CasePage',
  components: { CaseView },
  props: { id: String },
  setup(props) {
    const router = useRouter();
    const c = ref(null);
    const error = ref('');
    async function load() {
      try {
        c.value = await api.get(`/api/v1/cases/${encodeURIComponent(props.id)}`);
        error.value = '';
      } catch (e) {
        if (e.status === 401) return router.replace({ path: '/login', query: { next: `/mine/${props.id}` } });
        error.value = errorText(e);
      }
    }
    const onVisible = () => document.visibilityState === 'visible' && c.value && load();
    onMounted(async () => {
      if (!state.loaded) await loadMe().catch(() => {});
      if (!state.user) return router.replace({ path: '/login', query: { next: `/mine/${props.id}` } });
      load();
      document.addEventListener('visibilitychange', onVisible);
    });
    onBeforeUnmount(() => document.removeEventListener('visibilitychange', onVisible));
    async function rate(body) {
      c.value = await api.post(`/api/v1/me/cases/${c.value.id}/verdict`, body);
    }
    async function addPhoto(blob) {
      await api.upload(`/api/v1/cases/${c.value.id}/photos`, photoForm(blob, { tag: 'before' }));
      await load();
    }
    return { c, error, rate, addPhoto, load };
  },
  template: `
  <div>
    <van-empty v-if="error" image="error" :description="error" />
    <CaseView v-else-if="c" :c="c" :rate="c.filer_id ? rate : null" @refresh="load" :add-photo="c.filer_id ? addPhoto : null" />
    <van-loading v-else style="padding: 48px; text-align: center" />
  </div>`,
};
