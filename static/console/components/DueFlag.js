// DueFlag is the overdue flag: 剩余 X 天 X 时 (orange under 24 h), red 已超期 X 天.
import { computed } from 'vue';
import { due } from '../shared.js';

export default {
  name: 'DueFlag',
  props: { c: { type: Object, required: true } },
  setup(props) {
    const d = computed(() => due(props.c));
    return { d };
  },
  template: `<span :class="d.cls">{{ d.text }}</span>`,
};
