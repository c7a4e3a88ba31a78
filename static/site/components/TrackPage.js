// The holder of a tracking link follows a case (/track#number=…&token=…):
// an anonymous filer, or a resident who scanned the QR code a cadre showed.
// The token stays in the fragment, so it never reaches a server log; the
// page can also be filled in by hand. Only an anonymous filer's own link
// gives the verdict (the answer's link_may_rate); a QR code's resident
// signs in with the phone the case was filed with to rate it.
import { ref, onMounted } from 'vue';
import { showToast } from 'vant';
import { api, errorText } from './shared.js';
import { photoForm } from './photos.js';
import CaseView from './CaseView.js';

export default {
  name: 'TrackPage',
  components: { CaseView },
  setup() {
    const number = ref('');
    const token = ref('');
    const c = ref(null);
    const loading = ref(false);
    const anon = { auth: false, token: '' };
    async function load() {
      if (!number.value || !token.value) return showToast('请输入诉求编号和查询码');
      loading.value = true;
      try {
        c.value = await api.request('GET', '/api/v1/cases/track', { ...anon, params: { number: number.value, token: token.value } });
      } catch (e) {
        showToast(errorText(e));
      } finally {
        loading.value = false;
      }
    }
    onMounted(() => {
      const h = new URLSearchParams(location.hash.slice(1));
      const q = new URLSearchParams(location.search);
      number.value = h.get('number') || q.get('number') || '';
      token.value = h.get('token') || '';
      if (number.value && token.value) load();
    });
    async function rate(body) {
      c.value = await api.request('POST', '/api/v1/track/verdict', { ...anon, body: { ...body, number: number.value, token: token.value } });
    }
    async function addPhoto(blob) {
      await api.request('POST', '/api/v1/track/photos', { ...anon, form: photoForm(blob, { number: number.value, token: token.value }) });
      await load();
    }
    return { number, token, c, loading, load, rate, addPhoto };
  },
  template: `
  <div>
    <template v-if="c">
      <CaseView :c="c" :rate="c.link_may_rate ? rate : null" @refresh="load" :add-photo="addPhoto" />
      <div v-if="c.status === 'completed' && !c.link_may_rate" class="section-title" data-test="rate-signed-in">
        诉求已办结。请用登记的手机号<router-link :to="{ path: '/login', query: { next: '/mine' } }">登录</router-link>后在“我的诉求”中评价。
      </div>
    </template>
    <template v-else>
      <div class="section-title">匿名提交的诉求，请打开提交时保存的查询链接，或输入编号和查询码</div>
      <van-cell-group inset>
        <van-field v-model="number" label="诉求编号" placeholder="如 XC2026-000123" />
        <van-field v-model="token" label="查询码" placeholder="查询链接中的 token" />
      </van-cell-group>
      <div class="actions"><van-button type="primary" block round :loading="loading" @click="load">查询</van-button></div>
    </template>
  </div>`,
};
