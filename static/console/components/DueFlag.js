// DueFlag is the overdue flag, in the server's words (the case's deadline,
// cases/labels.go): 剩余 X 天 X 时 (orange under 24 h), red 已超期 X 天.
import { computed } from 'vue';

export default {
  name: 'DueFlag',
  props: { c: { type: Object, required: true } },
  setup(props) {
    const cls = computed(() => {
      const d = props.c.deadline;
      if (!d) return '';
      return d.overdue ? 'flag-late' : d.due_soon ? 'flag-due' : 'flag-ok';
    });
    return { cls };
  },
  template: `<span :class="cls">{{ c.deadline_text || '' }}</span>`,
};
