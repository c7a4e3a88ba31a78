// 我有诉求: choose an area, describe, add photos, say where, 公开 / 不公开;
// similar open requests are offered for a +1 before filing; file signed in
// or anonymously, then show the case number (and, anonymously, the
// tracking link once, with a QR code and a copy button).
import { ref, reactive, computed, watch, onMounted, onBeforeUnmount } from 'vue';
import { useRouter } from 'vue-router';
import { showToast, showSuccessToast, closeToast } from 'vant';
import { newKey } from 'minsheng/api';
import { api, state, AREAS, loadOrg, errorText, day } from './shared.js';
import { compress } from 'minsheng/photo';
import { photoForm } from './photos.js';
import { SignInForm } from './SignInPage.js';
import { createMap } from 'minsheng/map';

export default {
  name: 'FilePage',
  components: { SignInForm },
  setup() {
    const router = useRouter();
    const form = reactive({
      area: '', title: '', description: '', community: '', communityLabel: '', address: '',
      lat: null, lng: null, accuracy: null, public: '1', contact_name: '', contact_phone: '',
    });
    const files = ref([]);
    const options = ref([]);
    const showPlace = ref(false);
    // picked is the cascader's own value, which passes through the
    // sub-district while choosing; form.community changes on finish only.
    const picked = ref(form.community);
    const showSignIn = ref(false);
    const similar = ref([]);
    const sending = ref(false);
    const result = ref(null);
    const errors = reactive({});
    // The draft (text and place, not photos) is kept on the phone, so a
    // closed tab or a lost connection does not lose what was typed.
    const DRAFT = 'minsheng.site.draft';
    const savedAt = ref('');
    try {
      const d = JSON.parse(localStorage.getItem(DRAFT) || 'null');
      if (d?.form) {
        Object.assign(form, d.form);
        savedAt.value = d.at || '';
      }
    } catch {
      /* a broken draft is dropped */
    }
    let draftTimer = null;
    // Text typed to find a case to +1 is a search, not a filing: after a
    // co-sign it is no draft (a reopened form starts empty) until the
    // resident changes it or files it (issue 23 item 12).
    const searchOnly = ref(null); // {title, description} as co-signed with
    const isSearchText = () => searchOnly.value
      && form.title === searchOnly.value.title && form.description === searchOnly.value.description;
    watch(form, () => {
      clearTimeout(draftTimer);
      draftTimer = setTimeout(() => {
        const empty = !form.area && !form.title && !form.description && !form.address;
        if (searchOnly.value && !isSearchText()) searchOnly.value = null;
        if (empty || searchOnly.value) {
          savedAt.value = '';
          return localStorage.removeItem(DRAFT);
        }
        const at = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date());
        localStorage.setItem(DRAFT, JSON.stringify({ form: { ...form }, at }));
        savedAt.value = at;
      }, 500);
    }, { deep: true });
    let fileKey = newKey(); // one Idempotency-Key per filing, kept across retries
    let afterSignIn = null;

    onMounted(async () => {
      try {
        const org = await loadOrg();
        options.value = org.sub_districts.map((s) => ({
          text: s.name, value: s.code, children: (s.communities || []).map((c) => ({ text: c.name, value: c.code })),
        }));
      } catch (e) {
        showToast(errorText(e));
      }
    });

    let searchTimer = null;
    watch(() => [form.title, form.description, form.community, form.area], () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(searchSimilar, 400);
    });
    async function searchSimilar() {
      const text = form.title.trim() || form.description.trim().slice(0, 50);
      if (text.length < 2) {
        similar.value = [];
        return;
      }
      try {
        const r = await api.get('/api/v1/public/similar', { text, community: form.community });
        similar.value = r.items;
      } catch {
        similar.value = [];
      }
    }

    function pickPlace({ selectedOptions }) {
      form.community = selectedOptions[selectedOptions.length - 1].value;
      form.communityLabel = selectedOptions.map((o) => o.text).join(' / ');
      located.value = '';
      // Chosen by hand: nothing left to confirm.
      placeConfirmed.value = true;
      showPlace.value = false;
    }

    // The place card: the chosen community on a map (with the phone's
    // position when located), kept on screen until sending, with 是这个社区
    // and 换一个社区 — the nearest reference point is a guess (issue 23, item 8).
    const mapEl = ref(null);
    const placeConfirmed = ref(false);
    let placeMap = null;
    let mapping = null;
    async function drawPlace() {
      if (!form.community) {
        placeMap?.destroy();
        placeMap = mapping = null;
        return;
      }
      if (!mapping && mapEl.value) mapping = createMap(mapEl.value, { cluster: false }).then((m) => (placeMap = m));
      if (!mapping) return;
      const m = await mapping;
      m.setPick(form.lat !== null ? { lat: form.lat, lng: form.lng, datum: 'wgs84' } : null);
      m.showCommunity(form.community);
    }
    watch(() => [form.community, form.lat, form.lng], drawPlace, { flush: 'post' });
    onMounted(drawPlace);
    onBeforeUnmount(() => placeMap?.destroy());
    // "使用当前位置": the server says which community the position falls
    // in (GET /api/v1/org/locate), and the pickers are filled from it; the
    // position itself is kept with the filing only (WGS-84, as given).
    const locating = ref(false);
    const located = ref('');
    function locate() {
      if (!navigator.geolocation) return showToast('此浏览器不支持定位，请手动选择街道和社区');
      locating.value = true;
      navigator.geolocation.getCurrentPosition(
        async (pos) => {
          form.lat = pos.coords.latitude;
          form.lng = pos.coords.longitude;
          form.accuracy = Math.round(pos.coords.accuracy);
          try {
            const r = await api.get('/api/v1/org/locate', { lat: form.lat, lng: form.lng });
            form.community = r.community.code;
            picked.value = r.community.code;
            form.communityLabel = `${r.sub_district_name} / ${r.community.name}`;
            located.value = `距社区约 ${r.distance_m} 米，定位精度约 ${form.accuracy} 米`;
            placeConfirmed.value = false;
            delete errors.community;
          } catch (e) {
            form.lat = form.lng = form.accuracy = null;
            located.value = '';
            showToast(errorText(e));
          } finally {
            locating.value = false;
          }
        },
        (err) => {
          locating.value = false;
          showToast(err?.code === 1 ? '未获得定位权限，请手动选择街道和社区' : '无法获取位置，请手动选择街道和社区');
        },
        { enableHighAccuracy: true, timeout: 10000 },
      );
    }

    function needSignIn(then) {
      afterSignIn = then;
      showSignIn.value = true;
    }
    function signedIn() {
      showSignIn.value = false;
      const next = afterSignIn;
      afterSignIn = null;
      if (next) next();
    }

    async function cosign(item) {
      if (!state.user) return needSignIn(() => cosign(item));
      try {
        await api.post(`/api/v1/cases/${item.id}/cosign`);
        item.cosign_count += 1;
        item.cosigned = true;
        searchOnly.value = { title: form.title, description: form.description };
        clearTimeout(draftTimer);
        localStorage.removeItem(DRAFT);
        savedAt.value = '';
        showSuccessToast('已附议，可在“我的诉求”中跟进');
      } catch (e) {
        showToast(errorText(e));
      }
    }

    function check() {
      for (const k of Object.keys(errors)) delete errors[k];
      if (!form.area) errors.area = '请选择诉求领域';
      if (form.title.trim().length < 2) errors.title = '请用至少2个字概括问题';
      if (!form.description.trim()) errors.description = '请描述具体情况';
      if (!form.community) errors.community = '请选择所在街道和社区';
      if (!form.address.trim()) errors.address = '请填写大致地址，如胡同名、小区楼号';
      if (form.contact_phone && !/^1[3-9]\d{9}$/.test(form.contact_phone)) errors.contact_phone = '请输入11位手机号码';
      const first = Object.values(errors)[0];
      if (first) showToast(first);
      return !first;
    }

    async function submit(anonymous) {
      if (!check()) return;
      if (!anonymous && !state.user) return needSignIn(() => submit(false));
      sending.value = true;
      try {
        const body = {
          area: form.area, title: form.title.trim(), description: form.description.trim(), community: form.community,
          address: form.address.trim(), public: form.public === '1', contact_name: form.contact_name.trim(),
          contact_phone: anonymous ? form.contact_phone.trim() : state.user.phone,
        };
        if (form.lat !== null) Object.assign(body, { lat: form.lat, lng: form.lng });
        const c = await api.request('POST', '/api/v1/cases', {
          body, idempotencyKey: fileKey, auth: !anonymous, token: anonymous ? '' : undefined,
        });
        let failed = 0;
        for (const f of files.value) {
          try {
            const blob = await compress(f.file);
            if (anonymous) {
              await api.request('POST', '/api/v1/track/photos', {
                form: photoForm(blob, { number: c.number, token: c.tracking_token }), auth: false, token: '',
              });
            } else {
              await api.upload(`/api/v1/cases/${c.id}/photos`, photoForm(blob, { tag: 'before' }));
            }
          } catch {
            failed += 1;
          }
        }
        const link = c.tracking_token
          ? `${location.origin}/track#number=${encodeURIComponent(c.number)}&token=${encodeURIComponent(c.tracking_token)}`
          : '';
        closeToast(); // a hint about the form must not linger over the result
        result.value = { id: c.id, number: c.number, anonymous, link, failed };
        fileKey = newKey();
        searchOnly.value = null;
        clearTimeout(draftTimer);
        localStorage.removeItem(DRAFT);
        savedAt.value = '';
        window.scrollTo(0, 0);
      } catch (e) {
        showToast(errorText(e));
        for (const [k, v] of Object.entries(e.fields || {})) errors[k] = v;
      } finally {
        sending.value = false;
      }
    }

    async function copy() {
      try {
        await navigator.clipboard.writeText(result.value.link);
        showSuccessToast('已复制');
      } catch {
        showToast('复制失败，请长按链接手动复制');
      }
    }
    function again() {
      result.value = null;
      Object.assign(form, { area: '', title: '', description: '', address: '', lat: null, lng: null, accuracy: null, contact_name: '', contact_phone: '' });
      files.value = [];
      similar.value = [];
      located.value = '';
      setTimeout(() => {
        clearTimeout(draftTimer);
        localStorage.removeItem(DRAFT);
        savedAt.value = '';
      }, 0);
    }
    function clearSearch() {
      Object.assign(form, { title: '', description: '' });
      searchOnly.value = null;
    }
    const qr = computed(() => (result.value?.link ? `/api/v1/qr?text=${encodeURIComponent(result.value.link)}` : ''));
    const areaName = computed(() => AREAS.find((a) => a.code === form.area)?.name || '');
    return {
      AREAS, form, files, options, showPlace, showSignIn, similar, sending, result, errors, state, qr, areaName,
      pickPlace, picked, locate, locating, located, mapEl, placeConfirmed, cosign, submit, copy, again, signedIn, day, router, savedAt,
      searchOnly, clearSearch,
    };
  },
  template: `
  <div>
    <div v-if="result" class="result">
      <van-icon name="checked" size="48" color="#07c160" />
      <div>诉求已提交，编号</div>
      <div class="number" data-test="case-number">{{ result.number }}</div>
      <div v-if="result.failed" class="warn">有 {{ result.failed }} 张照片上传失败，可在诉求详情中重新上传</div>
      <template v-if="result.anonymous">
        <div class="warn">这是您查询进度、补充照片和评价的唯一凭证，只显示这一次，请立即复制或截图保存二维码。</div>
        <img class="qr" :src="qr" alt="查询链接二维码" />
        <div class="link" data-test="tracking-link">{{ result.link }}</div>
        <div class="actions">
          <van-button type="primary" block round icon="description" @click="copy" class="copy-link">复制查询链接</van-button>
          <van-button block round @click="again">再提一条</van-button>
        </div>
      </template>
      <div v-else class="actions">
        <van-button type="primary" block round @click="router.push('/mine/' + result.id)" class="view-case">查看进度</van-button>
        <van-button block round @click="again">再提一条</van-button>
      </div>
    </div>

    <template v-else>
      <div class="section-title">1. 选择诉求领域</div>
      <van-grid :column-num="3" class="areas" :border="false">
        <van-grid-item v-for="a in AREAS" :key="a.code" :class="{ selected: form.area === a.code }" @click="form.area = a.code" :data-area="a.code">
          <div class="area-item" :class="{ selected: form.area === a.code }">
            <van-icon :name="a.icon" size="28" :color="form.area === a.code ? '#1989fa' : '#555'" />
            <div class="name">{{ a.name }}</div>
            <div class="typical">{{ a.typical }}</div>
          </div>
        </van-grid-item>
      </van-grid>

      <div class="section-title">2. 描述问题</div>
      <van-cell-group inset>
        <van-field v-model="form.title" name="title" label="标题" maxlength="50" placeholder="如：胡同旱厕需要改造" :error-message="errors.title" />
        <van-field v-model="form.description" name="description" label="具体情况" type="textarea" rows="3" autosize maxlength="2000" show-word-limit placeholder="什么问题、影响多少户、持续多久" :error-message="errors.description" />
      </van-cell-group>

      <div v-if="similar.length" class="similar" data-test="similar">
        <h4>已有相似诉求，可直接附议（+1），不必重复提交</h4>
        <div v-for="s in similar" :key="s.id" class="similar-item">
          <div>
            <div class="t">{{ s.title }}</div>
            <div class="m">{{ s.community_name }} · {{ s.area_label }} · {{ s.status_label }} · {{ day(s.filed_at) }}<template v-if="s.cosign_count"> · {{ s.cosign_count }} 人附议</template></div>
          </div>
          <van-button size="small" type="warning" :disabled="s.cosigned" @click="cosign(s)" class="cosign">{{ s.cosigned ? '已附议' : '+1 附议' }}</van-button>
        </div>
        <div v-if="searchOnly" class="search-only" data-test="search-only">
          刚才输入的文字只用来查找，不会保存为新诉求的草稿。如果还有别的问题，修改文字后继续提交。
          <van-button size="mini" plain type="primary" @click="clearSearch" class="clear-search">清空文字</van-button>
        </div>
      </div>

      <div class="section-title">3. 地点</div>
      <van-cell-group inset>
        <van-cell title="使用当前位置" is-link @click="locate" icon="location-o" class="use-location" :label="located">
          <template #value><van-loading v-if="locating" size="16" /><span v-else-if="form.lat !== null" class="located">已定位</span></template>
        </van-cell>
        <van-field v-model="form.communityLabel" is-link readonly name="community" label="街道社区" placeholder="选择街道和社区" @click="showPlace = true" :error-message="errors.community" />
        <van-field v-model="form.address" name="address" label="地址" maxlength="200" placeholder="胡同、小区、楼号（不必写门牌号）" :error-message="errors.address" />
      </van-cell-group>
      <div v-if="form.community" class="place-card" data-test="place-card">
        <div ref="mapEl" class="place-map"></div>
        <div class="place-choice">
          <div class="place-name">将提交到 <b data-test="place-name">{{ form.communityLabel }}</b></div>
          <div v-if="form.lat !== null && !placeConfirmed" class="place-hint" data-test="place-hint">按您的位置推断（离哪个社区的参考点最近），可能不准：请看地图，不是这个社区请更换</div>
          <div class="place-buttons">
            <van-button v-if="form.lat !== null" size="small" round :type="placeConfirmed ? 'success' : 'primary'" :icon="placeConfirmed ? 'success' : ''" class="confirm-place" @click="placeConfirmed = true">{{ placeConfirmed ? '已确认' : '是这个社区' }}</van-button>
            <van-button size="small" round plain type="primary" class="change-place" @click="showPlace = true">换一个社区</van-button>
          </div>
        </div>
      </div>
      <van-popup v-model:show="showPlace" round position="bottom">
        <van-cascader v-model="picked" title="选择街道和社区" :options="options" @close="showPlace = false" @finish="pickPlace" />
      </van-popup>

      <div class="section-title">4. 照片（选填，最多9张，上传前会自动压缩）</div>
      <van-cell-group inset>
        <div style="padding: 12px 16px 4px">
          <van-uploader v-model="files" multiple :max-count="9" accept="image/*" preview-size="72" />
        </div>
      </van-cell-group>

      <div class="section-title">5. 公开与联系</div>
      <van-cell-group inset>
        <van-radio-group v-model="form.public" direction="horizontal" style="padding: 12px 16px">
          <van-radio name="1">公开（可上“民生公开”栏，不显示姓名电话地址）</van-radio>
          <van-radio name="0" style="margin-top: 8px">不公开</van-radio>
        </van-radio-group>
        <van-field v-model="form.contact_name" name="contact_name" label="称呼" maxlength="20" placeholder="选填，如：王先生" />
        <van-field v-if="!state.user" v-model="form.contact_phone" name="contact_phone" type="tel" maxlength="11" label="手机号" placeholder="选填，留号可收到办理短信" :error-message="errors.contact_phone" />
        <van-cell v-else title="联系电话" :value="state.user.phone" label="办理进度将以短信通知此号码" />
      </van-cell-group>

      <div class="actions">
        <van-button type="primary" block round :loading="sending" :disabled="sending" @click="submit(false)" class="submit">
          {{ state.user ? '提交诉求' : '登录后提交' }}
        </van-button>
        <van-button v-if="!state.user" block round plain type="primary" :disabled="sending" @click="submit(true)" class="submit-anon">匿名提交</van-button>
      </div>
      <div v-if="savedAt" class="draft-note">草稿已保存 {{ savedAt }}</div>
      <div class="privacy-link">提交即表示同意<router-link to="/privacy">《个人信息保护说明》</router-link>：电话仅办理人员可见，不会公开</div>

      <van-popup v-model:show="showSignIn" round position="bottom" :style="{ paddingTop: '16px' }" closeable>
        <div class="section-title">短信验证码登录</div>
        <SignInForm @done="signedIn" />
      </van-popup>
    </template>
  </div>`,
};
