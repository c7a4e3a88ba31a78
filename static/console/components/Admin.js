// Admin (系统管理): accounts — list, create, disable, reset password,
// change scope — and the org tree. Only admins reach it; the server
// refuses the same calls to anyone else.
import { ref, reactive, computed, onMounted } from 'vue';
import { ElMessage, ElMessageBox } from 'element-plus';
import { api, session, dt, errText, subName, communityName } from '../shared.js';

const roleLabels = { resident: '居民', cadre: '社区干部', subdistrict: '街道工作人员', finance: '区财政', admin: '管理员' };

export default {
  name: 'Admin',
  setup() {
    const users = ref([]);
    const next = ref('');
    const error = ref('');
    const role = ref('');
    const form = reactive({ open: false, username: '', password: '', name: '', role: 'subdistrict', scope: '' });
    const scopeDlg = reactive({ open: false, user: null, scope: '' });
    const subs = computed(() => session.org?.sub_districts || []);
    const scopes = (r) => (r === 'subdistrict' ? subs.value.map((s) => ({ code: s.code, name: s.name }))
      : r === 'cadre' ? subs.value.flatMap((s) => (s.communities || []).map((c) => ({ code: c.code, name: `${s.name} / ${c.name}` }))) : []);
    async function load(more = false) {
      error.value = '';
      try {
        const out = await api.get('/api/v1/users', { role: role.value, limit: 100, cursor: more ? next.value : '' });
        users.value = more ? users.value.concat(out.items) : out.items;
        next.value = out.next_cursor || '';
      } catch (e) {
        error.value = e.status === 404 ? '账户列表接口尚未部署（GET /api/v1/users）' : errText(e);
      }
    }
    // The SMS outbox (GET /api/v1/admin/sms): the sender, its warning and
    // the latest messages; labels come from the server.
    const sms = ref(null);
    const smsError = ref('');
    async function loadSMS() {
      smsError.value = '';
      try {
        sms.value = await api.get('/api/v1/admin/sms');
      } catch (e) {
        smsError.value = errText(e);
      }
    }
    onMounted(() => { load(); loadSMS(); });
    async function create() {
      try {
        await api.post('/api/v1/users', { username: form.username, password: form.password, name: form.name, role: form.role, scope: form.scope });
        ElMessage.success('账户已创建');
        form.open = false;
        load();
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    async function toggle(u) {
      try {
        await api.patch(`/api/v1/users/${u.id}`, { disabled: !u.disabled });
        ElMessage.success(u.disabled ? '已启用' : '已停用，该账户的登录将在数秒内失效');
        load();
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    async function reset(u) {
      let pw;
      try {
        ({ value: pw } = await ElMessageBox.prompt(`为 ${u.name} 设置新密码（至少 10 位）`, '重置密码', { inputType: 'password', confirmButtonText: '重置', cancelButtonText: '取消' }));
      } catch {
        return;
      }
      try {
        await api.post(`/api/v1/users/${u.id}/password`, { password: pw });
        ElMessage.success('密码已重置，原有登录已失效');
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    async function saveScope() {
      try {
        await api.patch(`/api/v1/users/${scopeDlg.user.id}`, { scope: scopeDlg.scope });
        ElMessage.success('范围已更新');
        scopeDlg.open = false;
        load();
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    return { sms, smsError, loadSMS, users, next, error, role, form, scopeDlg, subs, scopes, load, create, toggle, reset, saveScope, roleLabels, dt, subName, communityName, session };
  },
  template: `
  <div>
    <h2 class="page-title">系统管理</h2>
    <el-alert v-if="sms && sms.warning" :title="sms.warning" type="error" :closable="false" show-icon style="margin-bottom:12px" data-test="sms-warning" />
    <el-tabs type="border-card">
      <el-tab-pane label="账户">
        <div class="toolbar">
          <el-select v-model="role" placeholder="全部角色" clearable style="width:140px" @change="load()"><el-option v-for="(l, k) in roleLabels" :key="k" :label="l" :value="k" /></el-select>
          <span class="spacer" />
          <el-button type="primary" @click="form.open = true" data-test="new-user">新建账户</el-button>
        </div>
        <el-alert v-if="error" :title="error" type="warning" :closable="false" style="margin-bottom:8px" />
        <el-table :data="users" border size="small" empty-text="暂无账户">
          <el-table-column prop="username" label="用户名" width="140" />
          <el-table-column prop="name" label="姓名" width="120" />
          <el-table-column label="角色" width="110"><template #default="{ row }">{{ roleLabels[row.role] || row.role }}</template></el-table-column>
          <el-table-column label="范围" min-width="160"><template #default="{ row }">{{ row.community ? communityName(row.community) : row.sub_district ? subName(row.sub_district) : '全区' }}</template></el-table-column>
          <el-table-column label="状态" width="70"><template #default="{ row }"><el-tag :type="row.disabled ? 'danger' : 'success'" size="small">{{ row.disabled ? '已停用' : '正常' }}</el-tag></template></el-table-column>
          <el-table-column label="创建时间" width="140"><template #default="{ row }">{{ dt(row.created_at) }}</template></el-table-column>
          <el-table-column label="操作" width="220"><template #default="{ row }">
            <el-button link type="primary" @click="toggle(row)" :disabled="row.id === session.me?.id">{{ row.disabled ? '启用' : '停用' }}</el-button>
            <el-button link type="primary" @click="reset(row)">重置密码</el-button>
            <el-button link type="primary" v-if="['subdistrict','cadre'].includes(row.role)" @click="Object.assign(scopeDlg, { open: true, user: row, scope: row.community || row.sub_district })">调整范围</el-button>
          </template></el-table-column>
        </el-table>
        <div v-if="next" style="margin-top:8px"><el-button @click="load(true)">加载更多</el-button></div>
      </el-tab-pane>
      <el-tab-pane label="短信">
        <div class="toolbar">
          <span v-if="sms">发送方式：{{ sms.mode }}　待发送 {{ sms.counts.queued || 0 }} · 发送中 {{ sms.counts.sending || 0 }} · 已发送 {{ sms.counts.sent || 0 }} · 发送失败 {{ sms.counts.failed || 0 }}</span>
          <span class="spacer" />
          <el-button @click="loadSMS">刷新</el-button>
        </div>
        <el-alert v-if="smsError" :title="smsError" type="warning" :closable="false" style="margin-bottom:8px" />
        <el-table :data="sms ? sms.items : []" border size="small" empty-text="暂无短信" data-test="sms-table">
          <el-table-column prop="kind_label" label="类型" width="130" />
          <el-table-column prop="phone" label="手机号" width="120" />
          <el-table-column label="状态" width="90"><template #default="{ row }"><el-tag :type="row.state === 'failed' ? 'danger' : row.state === 'sent' ? 'success' : 'info'" size="small">{{ row.state_label }}</el-tag></template></el-table-column>
          <el-table-column prop="tries" label="尝试次数" width="80" />
          <el-table-column prop="last_error" label="最近错误" min-width="200" show-overflow-tooltip />
          <el-table-column label="创建时间" width="140"><template #default="{ row }">{{ dt(row.created_at) }}</template></el-table-column>
          <el-table-column label="发送时间" width="140"><template #default="{ row }">{{ row.sent_at ? dt(row.sent_at) : '—' }}</template></el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane label="组织机构">
        <el-table :data="subs" border size="small" row-key="code" :tree-props="{ children: 'communities' }">
          <el-table-column prop="name" label="街道 / 社区" min-width="200" />
          <el-table-column prop="code" label="编码" width="220" />
          <el-table-column prop="population" label="人口" width="100" />
        </el-table>
      </el-tab-pane>
    </el-tabs>
    <el-dialog v-model="form.open" title="新建账户" width="480px">
      <el-form label-width="80px" @submit.prevent="create">
        <el-form-item label="用户名" required><el-input v-model="form.username" autocomplete="off" /></el-form-item>
        <el-form-item label="姓名" required><el-input v-model="form.name" /></el-form-item>
        <el-form-item label="初始密码" required><el-input v-model="form.password" type="password" show-password autocomplete="new-password" /></el-form-item>
        <el-form-item label="角色"><el-select v-model="form.role" style="width:100%" @change="form.scope = ''"><el-option v-for="(l, k) in roleLabels" :key="k" :label="l" :value="k" /></el-select></el-form-item>
        <el-form-item label="范围" v-if="scopes(form.role).length"><el-select v-model="form.scope" filterable style="width:100%"><el-option v-for="s in scopes(form.role)" :key="s.code" :label="s.name" :value="s.code" /></el-select></el-form-item>
      </el-form>
      <template #footer><el-button @click="form.open = false">取消</el-button><el-button type="primary" @click="create">创建</el-button></template>
    </el-dialog>
    <el-dialog v-model="scopeDlg.open" title="调整范围" width="420px">
      <el-select v-model="scopeDlg.scope" filterable style="width:100%"><el-option v-for="s in scopes(scopeDlg.user?.role)" :key="s.code" :label="s.name" :value="s.code" /></el-select>
      <template #footer><el-button @click="scopeDlg.open = false">取消</el-button><el-button type="primary" @click="saveScope">保存</el-button></template>
    </el-dialog>
  </div>`,
};
