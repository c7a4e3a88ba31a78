// Sign-in by phone and SMS code; a first sign-in creates the account.
// Used as a page (/login?next=…) and inside the filing form.
import { ref, onBeforeUnmount } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { showToast } from 'vant';
import { api, loadMe, errorText } from './shared.js';

export const SignInForm = {
  name: 'SignInForm',
  emits: ['done'],
  setup(_, { emit }) {
    const phone = ref('');
    const code = ref('');
    const wait = ref(0);
    const sending = ref(false);
    const verifying = ref(false);
    let timer = null;
    onBeforeUnmount(() => clearInterval(timer));
    const phoneOk = () => /^1[3-9]\d{9}$/.test(phone.value);
    async function send() {
      if (!phoneOk()) return showToast('请输入11位手机号码');
      sending.value = true;
      try {
        await api.requestOtp(phone.value);
        showToast('验证码已发送');
        wait.value = 60;
        timer = setInterval(() => {
          wait.value -= 1;
          if (wait.value <= 0) clearInterval(timer);
        }, 1000);
      } catch (e) {
        showToast(e.retryAfter ? `${errorText(e)}，请${e.retryAfter}秒后再试` : errorText(e));
      } finally {
        sending.value = false;
      }
    }
    async function verify() {
      if (!phoneOk()) return showToast('请输入11位手机号码');
      if (!/^\d{6}$/.test(code.value)) return showToast('请输入6位验证码');
      verifying.value = true;
      try {
        await api.verifyOtp(phone.value, code.value);
        await loadMe();
        emit('done');
      } catch (e) {
        showToast(errorText(e));
      } finally {
        verifying.value = false;
      }
    }
    return { phone, code, wait, sending, verifying, send, verify };
  },
  template: `
  <van-cell-group inset>
    <van-field v-model="phone" name="phone" label="手机号" type="tel" maxlength="11" placeholder="请输入手机号码" autocomplete="tel" />
    <van-field v-model="code" name="code" label="验证码" type="digit" maxlength="6" placeholder="6位短信验证码" autocomplete="one-time-code">
      <template #button>
        <van-button size="small" type="primary" plain :loading="sending" :disabled="wait > 0" @click="send" class="send-code">
          {{ wait > 0 ? wait + '秒后重发' : '获取验证码' }}
        </van-button>
      </template>
    </van-field>
  </van-cell-group>
  <div class="actions">
    <van-button type="primary" block round :loading="verifying" @click="verify" class="sign-in">登录</van-button>
  </div>
  <div class="privacy-link">登录即表示您已阅读<router-link to="/privacy">《个人信息保护说明》</router-link></div>`,
};

export default {
  name: 'SignInPage',
  components: { SignInForm },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const done = () => router.replace(typeof route.query.next === 'string' && route.query.next.startsWith('/') ? route.query.next : '/mine');
    return { done };
  },
  template: `<div><div class="section-title">使用手机号和短信验证码登录，首次登录将自动注册</div><SignInForm @done="done" /></div>`,
};
