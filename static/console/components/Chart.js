// Chart draws one ECharts option and redraws when it changes or the
// window resizes.
import { ref, onMounted, onBeforeUnmount, watch } from 'vue';
import * as echarts from 'echarts';

export default {
  name: 'Chart',
  props: { option: { type: Object, required: true }, height: { type: String, default: '300px' } },
  setup(props) {
    const el = ref(null);
    let chart = null;
    const resize = () => chart?.resize();
    // A chart drawn inside a hidden tab has no width; redraw when it gets one.
    let seen = null;
    onMounted(() => {
      seen = new ResizeObserver(resize);
      seen.observe(el.value);
      chart = echarts.init(el.value);
      // No animation: figures are read, not watched, and screenshots show the final bars.
      chart.setOption({ animation: false, ...props.option });
      window.addEventListener('resize', resize);
    });
    watch(() => props.option, (o) => chart?.setOption({ animation: false, ...o }, true), { deep: true });
    onBeforeUnmount(() => {
      window.removeEventListener('resize', resize);
      seen?.disconnect();
      chart?.dispose();
    });
    return { el };
  },
  template: `<div ref="el" class="chart" :style="{ height }"></div>`,
};
