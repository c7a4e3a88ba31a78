// One public case (/gongkai/cases/:id, no sign-in): its public view
// (GET /api/v1/public/cases/{id}) through the case view, and +1 附议 while
// the case is open (the server's statuses say which are open).
import { ref, computed, onMounted } from 'vue';
import { showToast, showSuccessToast } from 'vant';
import { api, state, loadLabels, errorText } from './shared.js';
import { SignInForm } from './SignInPage.js';
import CaseView from './CaseView.js';

export default {
  name: 'PublicCasePage',
  components: { CaseView, SignInForm },
  props: { id: String },
  setup(props) {
    const c = ref(null);
    const error = ref('');
    const open = ref([]);
    const cosigned = ref(false);
    const showSignIn = ref(false);
    async function load() {
      try {
        c.value = await api.request('GET', `/api/v1/public/cases/${encodeURIComponent(props.id)}`, { auth: false, token: '' });
        error.value = '';
      } catch (e) {
        error.value = errorText(e);
      }
    }
    onMounted(() => {
      load();
      loadLabels().then((t) => { open.value = t.statuses.filter((s) => s.open).map((s) => s.status); }).catch(() => {});
    });
    const canCosign = computed(() => c.value && open.value.includes(c.value.status));
    async function cosign() {
      if (!state.user) {
        showSignIn.value = true;
        return;
      }
      try {
        await api.post(`/api/v1/cases/${encodeURIComponent(props.id)}/cosign`);
        cosigned.value = true;
        showSuccessToast('已附议，可在“我的诉求”中跟进');
        await load();
      } catch (e) {
        showToast(errorText(e));
      }
    }
    function signedIn() {
      showSignIn.value = false;
      cosign();
    }
    return { c, error, load, canCosign, cosigned, cosign, showSignIn, signedIn };
  },
  template: `
  <div>
    <van-empty v-if="error" image="error" :description="error" />
    <template v-else-if="c">
      <CaseView :c="c" @refresh="load">
        <template #public-note>这是居民公开提交的诉求：可查看办理状态、时限和照片；描述、地址、提交人和办理记录不公开。遇到同样的问题，可以附议（+1），不必重复提交。</template>
      </CaseView>
      <div v-if="canCosign" class="actions">
        <van-button type="warning" block round :disabled="cosigned" @click="cosign" class="cosign">{{ cosigned ? '已附议' : '+1 附议' }}</van-button>
      </div>
    </template>
    <van-loading v-else style="padding: 48px; text-align: center" />
    <van-popup v-model:show="showSignIn" round position="bottom" :style="{ paddingTop: '16px' }" closeable>
      <div class="section-title">登录后附议</div>
      <SignInForm @done="signedIn" />
    </van-popup>
  </div>`,
};
