// timeline.js — a node's story: its history as a timeline that ends in the current
// state and step, and, in plain words, why it is waiting (with the timeout it will
// hit and what to do) or what went wrong and the ways out.

import { actionLabel, provisionTargetsFor } from './actions.js';
import {
  absTime, duration, el, liveTime, parseTime, stateBadge,
} from './dom.js';

// Waits on the ramdisk, and the session timeout that governs each.
const WAIT_TIMEOUTS = {
  'wait call-back': 'deploy_callback',
  'clean wait': 'clean_callback',
  'inspect wait': 'inspect_wait',
  'rescue wait': 'rescue_callback',
  'service wait': 'service_callback',
};
// Waits on an operator.
const HOLDS = ['deploy hold', 'clean hold', 'service hold'];

const isFailed = (state) => state === 'error' || / failed$/.test(state || '');

// When the node entered its current provision state.
const stateSince = (node) => node.provision_updated_at || node.created_at;

// The step a clean, deploy or service is running: { kind, step } or null.
function currentStep(node) {
  for (const kind of ['clean', 'deploy', 'service']) {
    const step = node[`${kind}_step`];
    if (step && typeof step === 'object' && step.step) return { kind, step };
  }
  return null;
}

function stepText({ step }) {
  const priority = step.priority === undefined || step.priority === null ? '' : `, priority ${step.priority}`;
  return `${step.interface}.${step.step}${priority}`;
}

// ---- timeline ---------------------------------------------------------------------

function historyItem(entry, next) {
  const took = next ? parseTime(next.created_at) - parseTime(entry.created_at) : null;
  const who = [entry.conductor && `on ${entry.conductor}`, entry.user && `by ${entry.user}`].filter(Boolean).join(' ');
  return el('li', { class: entry.severity === 'ERROR' ? 'error' : null, dataset: { eventType: entry.event_type || '' } },
    el('time', { class: 'when', datetime: entry.created_at, title: entry.created_at }, absTime(entry.created_at)),
    el('div', { class: 'what' },
      el('span', { class: 'event-type' }, entry.event_type || 'event'),
      entry.state ? stateBadge(entry.state) : null,
      el('span', { class: 'event' }, entry.event),
      who ? el('span', { class: 'who' }, who) : null),
    el('span', { class: 'took' }, took === null ? '' : `took ${duration(took)}`));
}

function currentItem(node) {
  const step = currentStep(node);
  const since = stateSince(node);
  return el('li', { class: 'current', dataset: { eventType: 'current' } },
    el('span', { class: 'when' }, 'now'),
    el('div', { class: 'what' },
      el('span', { class: 'event-type' }, 'current'),
      stateBadge(node.provision_state),
      node.target_provision_state ? el('span', { class: 'target' }, `→ ${node.target_provision_state}`) : null,
      el('span', { class: 'event' }, liveTime(since, 'for')),
      step ? el('span', { class: 'step' }, `${step.kind} step ${stepText(step)}, running `, liveTime(since, 'for')) : null),
    el('span', { class: 'took' }));
}

// The history (oldest first) as <ol id="timeline">, ending in the current state.
export function timeline(history, node) {
  const items = history.map((entry, i) => historyItem(entry, history[i + 1]));
  items.push(currentItem(node));
  return el('ol', { id: 'timeline', class: 'timeline' }, items);
}

// ---- why is it waiting? --------------------------------------------------------

const WAITS = {
  'wait call-back': {
    reason: 'Waiting for the deploy ramdisk\'s agent to call back (heartbeat).',
    advice: 'Check the machine\'s console: did it PXE boot the deploy ramdisk? Is it on the provisioning network, and can the ramdisk reach the Ferric API? Once the agent heartbeats, a long step (writing the image) may simply be running. If it will never call back, you can abort (the deploy fails) or undeploy.',
  },
  'clean wait': {
    reason: 'Waiting for the deploy ramdisk\'s agent to call back (heartbeat) to run the clean steps.',
    advice: 'Check the machine\'s console: did it PXE boot the ramdisk? Is it on the cleaning network? Once the agent heartbeats, erasing large disks can take hours. You can abort: the node goes to clean failed, and Manage brings it back to manageable.',
  },
  'inspect wait': {
    reason: 'Waiting for the ramdisk to post inspection data.',
    advice: 'Check the machine\'s console: did it network boot the inspection ramdisk, and can the ramdisk reach Ferric\'s inspection callback? You can abort: the node goes to inspect failed, from where you can inspect again or manage it.',
  },
  'rescue wait': {
    reason: 'Waiting for the rescue ramdisk\'s agent to call back (heartbeat).',
    advice: 'Check the machine\'s console: did it PXE boot the rescue ramdisk? Is it on the rescue network? You can abort: the node goes to rescue failed, from where Unrescue returns to the instance.',
  },
  'service wait': {
    reason: 'Waiting for the deploy ramdisk\'s agent to call back (heartbeat) to run the service steps.',
    advice: 'Check the machine\'s console: did it PXE boot the ramdisk? Is it on the provisioning network? You can abort: the node goes to service failed.',
  },
};

const HOLD = {
  reason: 'Held: a step asked to pause here until an operator lets it go on.',
  advice: 'Unhold to carry on with the remaining steps, or abort.',
};

// The states in which a conductor works on the node itself, and what it is doing.
const DOING = {
  verifying: 'checking that the BMC address and credentials work',
  inspecting: 'inspecting the hardware',
  cleaning: 'cleaning the node',
  deploying: 'deploying the image',
  deleting: 'tearing the instance down',
  rescuing: 'booting the rescue ramdisk',
  unrescuing: 'bringing the instance back from rescue',
  adopting: 'adopting the running instance',
  servicing: 'servicing the node',
};

function working(node) {
  const step = currentStep(node);
  const host = node.conductor || node.reservation || '(unknown)';
  return {
    reason: `The conductor ${host} is working on it (${step ? `step ${stepText(step)}` : 'no step reported'}): ${DOING[node.provision_state]}.`,
    advice: 'Nothing to do but wait; this state ends by itself. If it lasts much longer than usual, look at that conductor\'s log and check on the Conductors page that it is alive.',
  };
}

function explanation(node) {
  const state = node.provision_state;
  if (HOLDS.includes(state)) return HOLD;
  return WAITS[state] || working(node);
}

function timeoutRow(node, timeouts) {
  const key = WAIT_TIMEOUTS[node.provision_state];
  if (!key) return [];
  const seconds = timeouts[key];
  if (!seconds) return [el('dt', {}, 'Timeout'), el('dd', {}, `none configured (${key})`)];
  const deadline = new Date(parseTime(stateSince(node)) + seconds * 1000).toISOString();
  return [
    el('dt', {}, 'Timeout'),
    el('dd', { id: 'why-timeout' }, `${key} is ${duration(seconds * 1000)}: fails at ${absTime(deadline)}, `, liveTime(deadline, 'until')),
  ];
}

function heartbeatRow(node) {
  const beat = (node.driver_internal_info || {}).agent_last_heartbeat;
  return [
    el('dt', {}, 'Last agent heartbeat'),
    el('dd', { id: 'why-heartbeat' }, beat ? [absTime(beat), ' (', liveTime(beat, 'ago'), ')'] : 'never'),
  ];
}

function whyWaiting(node, timeouts) {
  const { reason, advice } = explanation(node);
  const since = stateSince(node);
  return el('div', { id: 'why-waiting', class: 'why' },
    el('h3', {}, 'Why is it waiting?'),
    el('p', { class: 'reason' }, reason),
    node.maintenance
      ? el('p', { class: 'warning' }, 'The node is in maintenance: Ferric does not act on it (no timeouts, heartbeats not acted on) until maintenance ends.')
      : null,
    el('dl', { class: 'facts' },
      el('dt', {}, 'Since'), el('dd', {}, absTime(since), ' (', liveTime(since, 'for'), ')'),
      timeoutRow(node, timeouts),
      heartbeatRow(node),
      el('dt', {}, 'Lock held by'), el('dd', {}, node.reservation || 'nobody')),
    el('p', { class: 'advice' }, el('strong', {}, 'What to do: '), advice));
}

// ---- last error ---------------------------------------------------------------------

// What each way out of a failed state does.
const WAYS_OUT = {
  manage: 'back to manageable, to fix the cause and try again',
  inspect: 'inspect again',
  adopt: 'try adopting again',
  active: 'try the deploy again',
  rebuild: 'write the image again',
  deleted: 'tear the instance down and clean the node',
  rescue: 'boot the rescue ramdisk again',
  unrescue: 'go back to the instance',
  abort: 'give up on the operation',
};

function lastError(node) {
  const state = node.provision_state;
  const exits = isFailed(state) ? provisionTargetsFor(state).filter((t) => t in WAYS_OUT) : [];
  return el('div', { id: 'last-error', class: 'error-box', role: 'alert' },
    el('h3', {}, isFailed(state) ? `The node is in ${state}` : 'Last error'),
    el('pre', { class: 'message' }, node.last_error || 'No error message was recorded.'),
    exits.length
      ? el('div', { class: 'ways-out' }, el('p', {}, 'Ways out:'),
        el('ul', {}, exits.map((t) => el('li', {}, el('strong', {}, actionLabel(t)), ` — ${WAYS_OUT[t]}`))))
      : null);
}

// The panels about the node's situation: why it waits (wait and working states)
// and its last error (failed states, or whenever last_error is set).
export function statusPanels(node, timeouts) {
  const state = node.provision_state;
  const panels = [];
  const waiting = state in WAIT_TIMEOUTS || HOLDS.includes(state) || state in DOING;
  if (waiting) panels.push(whyWaiting(node, timeouts || {}));
  if (isFailed(state) || node.last_error) panels.push(lastError(node));
  return panels;
}
