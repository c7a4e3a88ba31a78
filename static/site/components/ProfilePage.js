// 个人中心: name, phone, sign out, delete my personal data (PIPL).
import { ref, watch } from 'vue';
import { useRouter } from 'vue-router';
import { showToast, showSuccessToast, showConfirmDialog } from 'vant';
import { api, state, errorText } from './shared.js';
import { SignInForm } from './SignInPage.js';

export default {
  name: 'ProfilePage',
  components: { SignInForm },
  setup() {
    const router = useRouter();
    const name = ref(state.user?.name || '');
    watch(() => state.user, (u) => { name.value = u?.name || ''; });
    const saving = ref(false);
    async function save() {
      saving.value = true;
      try {
        state.user = { ...state.user, ...(await api.patch('/api/v1/me', { name: name.value })) };
        showSuccessToast('已保存');
      } catch (e) {
        showToast(errorText(e));
      } finally {
        saving.value = false;
      }
    }
    async function logout() {
      await api.logout();
      state.user = null;
      router.push('/');
    }
    async function forget() {
      try {
        await showConfirmDialog({
          title: '删除我的个人信息',
          message: '将删除您的账号、手机号和称呼，已提交的诉求会改为匿名保留（街道办理记录需要）、附议将被撤回。此操作不可恢复。',
          confirmButtonText: '确认删除', confirmButtonColor: '#ee0a24',
        });
      } catch {
        return;
      }
      try {
        await api.del('/api/v1/me');
        await api.logout();
        state.user = null;
        showSuccessToast('已删除');
        router.push('/');
      } catch (e) {
        showToast(errorText(e));
      }
    }
    return { state, name, saving, save, logout, forget };
  },
  template: `
  <div>
    <template v-if="state.user">
      <div class="section-title">我的信息</div>
      <van-cell-group inset>
        <van-field v-model="name" label="称呼" maxlength="20" placeholder="您希望被如何称呼">
          <template #button><van-button size="small" type="primary" :loading="saving" @click="save" class="save-name">保存</van-button></template>
        </van-field>
        <van-cell title="手机号" :value="state.user.phone" label="用于登录和接收办理短信，仅办理人员可见" />
      </van-cell-group>
      <div class="section-title">更多</div>
      <van-cell-group inset>
        <van-cell title="我的诉求" is-link to="/mine" />
        <van-cell title="查询匿名诉求" is-link to="/track" />
        <van-cell title="个人信息保护说明" is-link to="/privacy" />
      </van-cell-group>
      <div class="actions">
        <van-button block round @click="logout" class="logout">退出登录</van-button>
        <van-button block round type="danger" plain @click="forget" class="forget">删除我的个人信息</van-button>
      </div>
    </template>
    <template v-else-if="state.loaded">
      <div class="section-title">登录后可管理个人信息</div>
      <SignInForm />
      <van-cell-group inset style="margin-top: 12px">
        <van-cell title="查询匿名诉求" is-link to="/track" />
        <van-cell title="个人信息保护说明" is-link to="/privacy" />
      </van-cell-group>
    </template>
  </div>`,
};
