// Forbidden is where the route guard sends a role that may not open a page.
export default {
  name: 'Forbidden',
  template: `<el-result icon="warning" title="无权访问" sub-title="您的账户角色不能查看该页面，如需开通请联系系统管理员。" data-test="forbidden" />`,
};
