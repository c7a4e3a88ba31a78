// Sign in with the account the sub-district created, naming this phone.
import { ref } from 'vue';
import { useRouter } from 'vue-router';
import { showFailToast } from 'vant';
import { signIn } from './state.js';

function guessDevice() {
  const ua = navigator.userAgent;
  const m = /\(([^;)]+);[^)]*?([A-Za-z0-9 _-]+) Build/.exec(ua);
  if (m) return m[2].trim();
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/Android/.test(ua)) return 'Android 手机';
  return '手机浏览器';
}

export default {
  name: 'LoginView',
  setup() {
    const router = useRouter();
    const username = ref('');
    const password = ref('');
    const device = ref(localStorage.getItem('minsheng.m.device') || guessDevice());
    const busy = ref(false);
    const errors = ref({});
    async function submit() {
      busy.value = true;
      errors.value = {};
      try {
        localStorage.setItem('minsheng.m.device', device.value);
        await signIn(username.value.trim(), password.value, device.value.trim());
        router.replace('/');
      } catch (err) {
        errors.value = err.fields || {};
        showFailToast(err.offline ? '无网络，首次登录需要联网' : err.message);
      } finally {
        busy.value = false;
      }
    }
    return { username, password, device, busy, errors, submit };
  },
  template: `
  <div class="page">
    <van-nav-bar title="民生 · 社区干部" />
    <div class="pad"><p class="muted">接诉即办：代居民登记、现场评估、办理、办结、回访。无网络时也能记录，联网后自动发送。</p></div>
    <van-form @submit="submit">
      <van-cell-group inset>
        <van-field v-model="username" name="username" label="用户名" placeholder="街道为您开设的账号" autocomplete="username" :error-message="errors.username" />
        <van-field v-model="password" name="password" type="password" label="密码" placeholder="密码" autocomplete="current-password" :error-message="errors.password" />
        <van-field v-model="device" name="device" label="本机名称" placeholder="例如：王芳的手机" :error-message="errors.device" />
      </van-cell-group>
      <div class="pad"><van-button round block type="primary" native-type="submit" :loading="busy" :disabled="busy" data-test="login">登录</van-button></div>
    </van-form>
  </div>`,
};
