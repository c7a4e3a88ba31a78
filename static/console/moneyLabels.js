// moneyLabels holds the server's budget words (GET /api/v1/budget/labels,
// budgetlink/ledger/labels.go): the labels of a line's figures, reservation
// states, movement and adjustment kinds, review stages. The console's
// columns and the public board name the same sums with the same words.
import { reactive } from 'vue';
import { api } from './shared.js';

export const moneyLabels = reactive({ figure: {}, reservation_states: {}, audit_kinds: {}, adjustment_kinds: {}, review_stages: {} });

let once = null;
export function loadMoneyLabels() {
  once ||= api.get('/api/v1/budget/labels').then((t) => {
    for (const f of t.figures || []) moneyLabels.figure[f.key] = f.label;
    for (const k of ['reservation_states', 'audit_kinds', 'adjustment_kinds', 'review_stages']) Object.assign(moneyLabels[k], t[k] || {});
  }).catch(() => { once = null; });
  return once;
}

/** figure is a figure's label with its unit: 已预留（元）. */
export function figure(key) {
  return `${moneyLabels.figure[key] || ''}（元）`;
}
