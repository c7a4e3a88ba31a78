// After filing on a resident's behalf: the QR code the resident scans to
// follow the case without an account (the resident site's 查询 page with
// the case number and its tracking token). The code only reads: staff hold
// it too, so the verdict is the resident's own (signed in with the phone the
// case was filed with) or recorded on the return visit (VerdictView). Until
// the filing is sent the page says so and shows the code as soon as it is.
import { computed } from 'vue';
import { useRouter } from 'vue-router';
import { renderSVG } from 'uqr';
import { state, syncNow } from './state.js';
import SyncBadge from './SyncBadge.js';

export default {
  name: 'QrView',
  components: { SyncBadge },
  props: { id: String },
  setup(props) {
    const router = useRouter();
    // A case filed offline is known by its client id until it is sent.
    const c = computed(() => state.cases[props.id] || Object.values(state.cases).find((x) => x.client_id === props.id));
    const link = computed(() => (c.value?.tracking_token ? `${location.origin}/track?number=${encodeURIComponent(c.value.number)}&token=${c.value.tracking_token}` : ''));
    const svg = computed(() => (link.value ? renderSVG(link.value, { ecc: 'M', border: 2 }) : ''));
    return { c, link, svg, state, syncNow, done: () => router.replace(c.value ? `/case/${c.value.id}` : '/') };
  },
  template: `
  <div class="page">
    <van-nav-bar title="居民查询二维码"><template #right><sync-badge /></template></van-nav-bar>
    <template v-if="c && svg">
      <div class="pad"><div class="case-title">{{ c.title }}</div><div class="muted">案件编号 {{ c.number }}</div></div>
      <div class="qr" v-html="svg" data-test="qr"></div>
      <div class="pad muted">请居民用微信或手机相机扫码，无需注册即可查看办理进度。办结后请居民用登记的手机号登录评价，或由社区干部回访时记录（扫码页不能评价）。查询码只显示给登记人，请勿拍照外传。</div>
    </template>
    <van-empty v-else image="network" :description="state.online ? '正在发送登记，发送成功后显示二维码' : '已保存到本机，联网发送成功后显示二维码'">
      <van-button round type="primary" @click="syncNow({ force: true })" :loading="state.syncing">立即同步</van-button>
    </van-empty>
    <div class="pad"><van-button block round @click="done" data-test="qr-done">完成</van-button></div>
  </div>`,
};
