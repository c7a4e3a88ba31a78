// Login signs staff in; residents and cadres are sent to their own apps.
import { ref, reactive } from 'vue';
import { useRouter, useRoute } from 'vue-router';
import { api, session, homeOf, consoleRoles, errText } from '../shared.js';

export default {
  name: 'Login',
  setup() {
    const router = useRouter();
    const route = useRoute();
    const form = reactive({ username: '', password: '' });
    const busy = ref(false);
    const error = ref('');
    async function submit() {
      if (busy.value) return;
      busy.value = true;
      error.value = '';
      try {
        await api.login(form.username.trim(), form.password);
        const [me, org] = await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/org')]);
        if (!consoleRoles.includes(me.role)) {
          await api.logout();
          error.value = '此账户无权使用管理台（居民请使用民生网站，社区干部请使用手机应用）';
          return;
        }
        session.me = me;
        session.org = org;
        router.push(typeof route.query.next === 'string' ? route.query.next : homeOf(me.role));
      } catch (e) {
        error.value = errText(e);
      } finally {
        busy.value = false;
      }
    }
    return { form, busy, error, submit };
  },
  template: `
  <div class="login">
    <div class="box">
      <h2 style="margin:0 0 18px">民生 · 管理台</h2>
      <el-form label-position="top" @submit.prevent="submit">
        <el-form-item label="用户名"><el-input v-model="form.username" name="username" autocomplete="username" autofocus /></el-form-item>
        <el-form-item label="密码"><el-input v-model="form.password" name="password" type="password" show-password autocomplete="current-password" @keyup.enter="submit" /></el-form-item>
        <el-alert v-if="error" :title="error" type="error" :closable="false" show-icon style="margin-bottom:12px" />
        <el-button type="primary" native-type="submit" :loading="busy" style="width:100%" data-test="login">登录</el-button>
      </el-form>
    </div>
  </div>`,
};
