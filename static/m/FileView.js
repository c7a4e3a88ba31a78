// 代居民登记: area with the requests residents make most there (chips
// that fill the title; the server's list, cases.CommonRequests, kept on the
// phone with the bootstrap so they show offline too), the request, where
// (GPS with its accuracy, or the courtyard address), the resident's
// contact, photos from the camera. Similar open cases of the community are
// shown before filing. The form autosaves as a draft (/file?draft=<id>);
// a cadre may keep several, listed above the form to resume or delete;
// filing goes to the outbox, removes the draft, and the case shows at
// once, with the resident's QR code once it is sent.
import { reactive, ref, watch, onMounted, computed, toRaw } from 'vue';
import { useRouter, useRoute } from 'vue-router';
import { showFailToast, showConfirmDialog } from 'vant';
import { api, state, fileCase, refreshBoot } from './state.js';
import { drafts, hasContent } from './drafts.js';
import { compress } from 'minsheng/photo';
import { clock, when } from './format.js';
import SyncBadge from './SyncBadge.js';

const empty = () => ({ area: '', item: '', title: '', description: '', address: '', contact_name: '', contact_phone: '', households: 1 });

export default {
  name: 'FileView',
  components: { SyncBadge },
  setup() {
    const router = useRouter();
    const route = useRoute();
    const form = reactive(empty());
    const draftId = ref(''); // the draft this form is, once it holds anything
    const others = ref([]); // the other drafts kept on the phone
    let loading = false; // a draft being loaded into the form is no edit
    let timer = 0;
    const photos = ref([]); // Vant uploader items: {file, content}
    const savedAt = ref('');
    const gps = ref(null); // {lat, lng, accuracy}
    const gpsState = ref('');
    const similar = ref([]);
    // The areas and their common requests: the server's bootstrap, as
    // the last sync kept it.
    const AREAS = computed(() => state.boot?.areas || []);
    const showAreas = ref(false);
    const busy = ref(false);
    const errors = ref({});

    async function listOthers() {
      others.value = (await drafts.list()).filter((d) => d.id !== draftId.value);
    }
    // open loads the draft named in the address (or an empty form).
    async function open(id) {
      loading = true;
      clearTimeout(timer);
      const d = id ? await drafts.get(id) : null;
      draftId.value = d ? d.id : '';
      Object.assign(form, empty(), d?.form || {});
      savedAt.value = d?.savedAt || '';
      errors.value = {};
      similar.value = [];
      // Photos of the draft are kept too (already compressed), so closing
      // the app before filing loses none of them.
      photos.value = (d?.photos || []).map((blob) => ({ blob, content: URL.createObjectURL(blob), status: 'done', isImage: true }));
      await listOthers();
      setTimeout(() => {
        loading = false;
      });
    }
    watch(() => route.query.draft, (id) => {
      if ((id || '') !== draftId.value) open(id || '');
    });
    onMounted(async () => {
      await open(String(route.query.draft || ''));
      if (!state.boot && state.online) await refreshBoot();
    });
    // save keeps the form as its draft; a form that holds nothing yet is
    // not saved (so opening the screen makes no empty drafts).
    async function save() {
      const blobs = photos.value.filter((p) => p.blob).map((p) => toRaw(p.blob));
      if (!draftId.value && !hasContent(form, blobs)) return;
      if (!draftId.value) {
        draftId.value = drafts.newId();
        router.replace({ path: '/file', query: { draft: draftId.value } });
      }
      const d = await drafts.save(draftId.value, form, blobs);
      savedAt.value = d.savedAt;
    }
    watch(form, () => {
      if (loading) return;
      clearTimeout(timer);
      timer = setTimeout(async () => {
        await save();
        if (state.online && form.area && form.title.length >= 2) {
          try {
            similar.value = (await api.get('/mobile/v1/similar', { area: form.area, text: `${form.title}\n${form.description}` })).items;
          } catch {
            similar.value = [];
          }
        }
      }, 600);
    });

    const areaName = computed(() => AREAS.value.find((a) => a.code === form.area)?.name || '');
    const typical = computed(() => AREAS.value.find((x) => x.code === form.area)?.requests || []);
    function pickArea(a) {
      form.area = a.code;
      showAreas.value = false;
    }
    function pickItem(r) {
      if (!form.title.trim() || typical.value.includes(form.title)) form.title = r;
    }
    function locate() {
      if (!navigator.geolocation) {
        gpsState.value = '本机不支持定位，请填写院落地址';
        return;
      }
      gpsState.value = '定位中…';
      navigator.geolocation.getCurrentPosition(
        (p) => {
          gps.value = { lat: p.coords.latitude, lng: p.coords.longitude, accuracy: Math.round(p.coords.accuracy) };
          gpsState.value = `已定位，精度约 ${gps.value.accuracy} 米（WGS-84）`;
        },
        (e) => {
          gpsState.value = e.code === 1 ? '未授权定位，请填写院落地址' : '定位失败，请填写院落地址';
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
      );
    }
    async function keepPhotos() {
      if (!loading) await save();
    }
    watch(() => photos.value.length, keepPhotos);
    function fresh() {
      router.push({ path: '/file' }); // this draft stays in the list
    }
    function resume(d) {
      router.push({ path: '/file', query: { draft: d.id } });
    }
    async function dropDraft(d) {
      try {
        await showConfirmDialog({ title: '删除这份草稿？', message: `「${d.form.title || '未填标题'}」及其照片将从本机删除。`, confirmButtonText: '删除', confirmButtonColor: '#ee0a24' });
      } catch {
        return;
      }
      await drafts.remove(d.id);
      await listOthers();
    }
    const nameOf = (code) => AREAS.value.find((a) => a.code === code)?.name || '未选领域';
    async function afterRead(items) {
      for (const it of Array.isArray(items) ? items : [items]) {
        it.status = 'uploading';
        it.message = '压缩中';
        try {
          it.blob = await compress(it.file);
          it.status = 'done';
          it.message = '';
        } catch {
          it.status = 'failed';
          it.message = '无法读取';
        }
      }
      await keepPhotos();
    }
    async function submit() {
      errors.value = {};
      const f = {};
      if (!form.area) f.area = '请选择领域';
      if (form.title.trim().length < 2) f.title = '至少2字';
      if (!form.description.trim()) f.description = '必填';
      if (!form.address.trim()) f.address = '必填';
      if (form.contact_phone && !/^1[3-9]\d{9}$/.test(form.contact_phone)) f.contact_phone = '请输入11位手机号码';
      if (Object.keys(f).length) {
        errors.value = f;
        showFailToast('请检查填写的内容');
        return;
      }
      busy.value = true;
      try {
        const body = {
          area: form.area, title: form.title.trim(), description: form.description.trim(), address: form.address.trim(),
          contact_name: form.contact_name.trim(), contact_phone: form.contact_phone.trim(), households: Number(form.households) || 1,
        };
        if (gps.value) Object.assign(body, { lat: gps.value.lat, lng: gps.value.lng, gps_accuracy: gps.value.accuracy });
        const blobs = photos.value.filter((p) => p.blob).map((p) => p.blob);
        const id = await fileCase(body, blobs);
        loading = true; // clearing the form is no edit
        clearTimeout(timer);
        if (draftId.value) await drafts.remove(draftId.value);
        draftId.value = '';
        Object.assign(form, empty());
        photos.value = [];
        // (The QR page says whether it is sent or waits on the phone.)
        router.replace(`/case/${id}/qr`);
      } finally {
        busy.value = false;
      }
    }
    return { form, photos, savedAt, gps, gpsState, similar, AREAS, areaName, typical, showAreas, busy, errors, draftId, others,
      pickArea, pickItem, locate, afterRead, submit, clock, when, fresh, resume, dropDraft, nameOf };
  },
  template: `
  <div class="page">
    <van-nav-bar title="代居民登记"><template #right><sync-badge /></template></van-nav-bar>
    <van-cell-group inset :title="'草稿 ' + others.length + ' 份（未登记，点击继续填写）'" v-if="others.length" data-test="drafts">
      <van-cell v-for="d in others" :key="d.id" is-link @click="resume(d)" data-test="draft">
        <template #title><div class="case-title">{{ d.form.title || '未填标题' }}</div></template>
        <template #label>{{ nameOf(d.form.area) }} · {{ d.form.address || '未填地址' }} · {{ d.photos.length }} 张照片 · 保存于 {{ when(d.savedAt) }}</template>
        <template #right-icon><van-button size="small" type="danger" plain @click.stop="dropDraft(d)" data-test="draft-delete" style="margin-left:8px">删除</van-button></template>
      </van-cell>
    </van-cell-group>
    <div class="pad muted row" data-test="draft-saved">
      <span class="grow">{{ savedAt ? '草稿已保存 ' + clock(savedAt) : '填写内容会自动保存为草稿' }}</span>
      <van-button v-if="draftId" size="small" icon="plus" @click="fresh" data-test="draft-new">另起一份</van-button>
    </div>
    <van-form @submit="submit">
      <van-cell-group inset title="诉求">
        <van-field :model-value="areaName" label="领域" placeholder="请选择" readonly is-link @click="showAreas = true" :error-message="errors.area" data-test="area" />
        <div v-if="typical.length" class="pad" style="padding-top:4px">
          <div class="muted" style="margin-bottom:6px">常见诉求（点选填入标题）</div>
          <van-space wrap>
            <van-tag v-for="r in typical" :key="r" size="medium" :type="form.title === r ? 'primary' : 'default'" plain @click="pickItem(r)" data-test="request-chip">{{ r }}</van-tag>
          </van-space>
        </div>
        <van-field v-model="form.title" label="标题" placeholder="如：10号院旱厕改造" maxlength="50" :error-message="errors.title" data-test="title" />
        <van-field v-model="form.description" label="描述" type="textarea" rows="3" autosize maxlength="2000" placeholder="居民反映的情况" :error-message="errors.description" data-test="description" />
      </van-cell-group>
      <van-cell-group inset title="本社区相似的在办案件（可改为附议，避免重复登记）" v-if="similar.length">
        <van-cell v-for="s in similar" :key="s.id" :title="s.title" :label="s.number + ' · ' + s.status_label + ' · ' + s.cosign_count + ' 人附议'" />
      </van-cell-group>
      <van-cell-group inset title="位置">
        <van-field v-model="form.address" label="院落地址" placeholder="如：丰盛胡同10号院" maxlength="200" :error-message="errors.address" data-test="address" />
        <van-cell title="现场定位" :label="gpsState || '可选；定位精度会一并记录'" is-link @click="locate" />
      </van-cell-group>
      <van-cell-group inset title="居民">
        <van-field v-model="form.contact_name" label="姓名" placeholder="可不填" maxlength="20" />
        <van-field v-model="form.contact_phone" label="手机" type="tel" placeholder="可不填" maxlength="11" :error-message="errors.contact_phone" />
        <van-field name="households" label="涉及户数"><template #input><van-stepper v-model="form.households" min="1" max="100000" integer /></template></van-field>
      </van-cell-group>
      <van-cell-group inset title="现场照片（拍照后在本机压缩）">
        <div class="pad"><van-uploader v-model="photos" :after-read="afterRead" multiple :max-count="9" accept="image/*" capture="environment" :deletable="true" data-test="photos" /></div>
      </van-cell-group>
      <div class="pad"><van-button round block type="primary" native-type="submit" :loading="busy" :disabled="busy" data-test="file-submit">登记</van-button></div>
    </van-form>
    <van-action-sheet v-model:show="showAreas" title="选择领域" :actions="AREAS" @select="pickArea" cancel-text="取消" />
  </div>`,
};
