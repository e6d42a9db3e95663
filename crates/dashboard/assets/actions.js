// actions.js — what an operator can do to nodes: the node page's toolbar (only the
// actions valid in the node's current state), the dialogs behind them (confirmation,
// deploy, clean, rescue, boot device, maintenance, delete) and the fleet's bulk
// actions, run four at a time with a result per node.

import { api, nodePath } from './api.js';
import {
  FieldError, clearErrors, el, field, readFields, showError,
} from './dom.js';

const BULK_PARALLEL = 4;
const DEFAULT_CLEAN_STEPS = '[{"interface":"deploy","step":"erase_devices_metadata"}]';
// Returned by a dialog's submit to keep the dialog open (it shows results).
const KEEP_OPEN = Symbol('keep open');

// Provision targets and the states that accept them (Ferric's transition table).
const ACCEPTED_IN = {
  manage: ['enroll', 'available', 'clean failed', 'inspect failed', 'adopt failed'],
  inspect: ['manageable', 'inspect failed'],
  provide: ['manageable'],
  clean: ['manageable'],
  adopt: ['manageable', 'adopt failed'],
  active: ['available', 'deploy failed'],
  rebuild: ['active', 'deploy failed', 'error'],
  deleted: ['active', 'deploy failed', 'error', 'wait call-back', 'rescue wait', 'rescue',
    'rescue failed', 'unrescue failed', 'service wait', 'service failed'],
  rescue: ['active', 'rescue', 'rescue failed', 'unrescue failed', 'service failed'],
  unrescue: ['rescue', 'rescue failed', 'unrescue failed'],
  abort: ['wait call-back', 'deploy hold', 'clean wait', 'clean hold', 'inspect wait',
    'rescue wait', 'service wait', 'service hold', 'service failed'],
  unhold: ['deploy hold', 'clean hold', 'service hold'],
};

// The provision targets valid in `state`, in toolbar order.
export function provisionTargetsFor(state) {
  return Object.keys(ACCEPTED_IN).filter((target) => ACCEPTED_IN[target].includes(state));
}

// States in which a node may be deleted without being in maintenance first.
const DELETABLE = ['enroll', 'manageable', 'available', 'adopt failed'];
const canDelete = (node) => node.maintenance || DELETABLE.includes(node.provision_state);

const provision = (uuid, body) => api('PUT', `${nodePath(uuid)}/states/provision`, body);
const setPower = (uuid, target) => api('PUT', `${nodePath(uuid)}/states/power`, { target });
const maintenanceOn = (uuid, reason) => api('PUT', `${nodePath(uuid)}/maintenance`, { reason: reason || null });
const maintenanceOff = (uuid) => api('DELETE', `${nodePath(uuid)}/maintenance`);

// ---- dialogs -------------------------------------------------------------------

// Opens a modal <dialog>. submit(values, parts) runs on the submit button; the dialog
// closes when it resolves (unless to KEEP_OPEN) and stays open showing the error
// next to its field when it rejects.
function openDialog({ title, text, fields = [], extra = null, submitLabel, danger = false, submit }) {
  const submitButton = el('button', { type: 'submit', class: danger ? 'danger' : 'primary', dataset: { submit: '' } }, submitLabel);
  const cancel = el('button', { type: 'button' }, 'Cancel');
  const form = el('form', { method: 'dialog', novalidate: true },
    el('h2', {}, title),
    text ? el('p', { class: 'dialog-text' }, text) : null,
    fields.map(field),
    extra,
    el('p', { class: 'action-error', role: 'alert' }),
    el('div', { class: 'buttons' }, cancel, submitButton));
  const dialog = el('dialog', { class: 'action-dialog' }, form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    submitButton.disabled = true;
    try {
      const outcome = await submit(readFields(form), { submitButton, cancel });
      if (outcome !== KEEP_OPEN) dialog.close();
    } catch (err) {
      showError(form, err, fields);
      submitButton.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

// A config drive: JSON text becomes an object, anything else (a URL, base64) is
// sent as the string it is; empty means none.
function parseConfigDrive(text) {
  if (!text) return undefined;
  if (!text.startsWith('{')) return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FieldError('configdrive', `Not valid JSON: ${err.message}`);
  }
}

function parseSteps(text) {
  let steps;
  try {
    steps = JSON.parse(text);
  } catch (err) {
    throw new FieldError('clean_steps', `Not valid JSON: ${err.message}`);
  }
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new FieldError('clean_steps', 'Give a JSON list of steps, each with "interface" and "step".');
  }
  return steps;
}

function deployDialog(node) {
  const info = node.instance_info || {};
  return {
    title: `Deploy ${nodeLabel(node)}`,
    text: 'The image is written to the node\'s disk and the node boots it.',
    fields: [
      { name: 'image_source', label: 'Image URL', kind: 'url', value: info.image_source, placeholder: 'http://images.example/ubuntu.qcow2', match: /image_source|image source|image url|\bimage\b/i },
      { name: 'image_checksum', label: 'Checksum or checksum URL', value: info.image_checksum, placeholder: 'sha256 hex digest, or http://…/SHA256SUMS', match: /checksum/i },
      { name: 'configdrive', label: 'Config drive (optional)', kind: 'textarea', rows: 4, placeholder: '{"meta_data": {…}, "user_data": "…"} — or a URL or base64 string', match: /config ?drive/i },
    ],
    submitLabel: 'Deploy',
    submit: async (values) => {
      if (!values.image_source) throw new FieldError('image_source', 'Give the URL of the image to deploy.');
      const configdrive = parseConfigDrive(values.configdrive);
      const patch = [{ op: 'add', path: '/instance_info/image_source', value: values.image_source }];
      if (values.image_checksum) {
        patch.push({ op: 'add', path: '/instance_info/image_checksum', value: values.image_checksum });
      }
      await api('PATCH', nodePath(node.uuid), patch);
      await provision(node.uuid, configdrive === undefined ? { target: 'active' } : { target: 'active', configdrive });
    },
  };
}

function cleanDialog(node) {
  return {
    title: `Clean ${nodeLabel(node)}`,
    text: 'Manual cleaning runs these steps in order; erasing steps destroy the data on the disks.',
    fields: [{ name: 'clean_steps', label: 'Clean steps (JSON)', kind: 'textarea', rows: 6, value: DEFAULT_CLEAN_STEPS, match: /step/i }],
    submitLabel: 'Clean',
    danger: true,
    submit: (values) => provision(node.uuid, { target: 'clean', clean_steps: parseSteps(values.clean_steps) }),
  };
}

function rescueDialog(node) {
  return {
    title: `Rescue ${nodeLabel(node)}`,
    text: 'The instance stops and the node boots the rescue ramdisk; log in as user "rescue" with this password.',
    fields: [{ name: 'rescue_password', label: 'Rescue password', kind: 'password', match: /password/i }],
    submitLabel: 'Rescue',
    danger: true,
    submit: (values) => {
      if (!values.rescue_password) throw new FieldError('rescue_password', 'A rescue password is needed.');
      return provision(node.uuid, { target: 'rescue', rescue_password: values.rescue_password });
    },
  };
}

function bootDeviceDialog(node) {
  return {
    title: `Boot device of ${nodeLabel(node)}`,
    text: 'Where the node boots from next (and, if persistent, every time after).',
    fields: [
      { name: 'boot_device', label: 'Boot device', kind: 'select', options: ['pxe', 'disk', 'cdrom', 'bios'], value: 'pxe', match: /boot.?device/i },
      { name: 'persistent', label: 'Persistent', kind: 'checkbox', value: false },
    ],
    submitLabel: 'Set boot device',
    submit: (values) => api('PUT', `${nodePath(node.uuid)}/management/boot_device`, {
      boot_device: values.boot_device, persistent: values.persistent,
    }),
  };
}

const REASON_FIELD = { name: 'reason', label: 'Reason', placeholder: 'e.g. replacing a DIMM, ticket 1234', match: /reason/i };

function maintenanceDialog(node) {
  return {
    title: `Maintenance for ${nodeLabel(node)}`,
    text: 'In maintenance, Ferric leaves the node alone: no power sync, no timeouts, no agent heartbeats acted on.',
    fields: [REASON_FIELD],
    submitLabel: 'Set maintenance',
    submit: (values) => maintenanceOn(node.uuid, values.reason),
  };
}

// ---- the node page's toolbar ------------------------------------------------------

// A provision action: a plain one, or one asking to confirm first.
const verb = (target, label, confirm) => ({ label, confirm, run: (node) => provision(node.uuid, { target }) });
const power = (target, label, confirm) => ({ label, confirm, run: (node) => setPower(node.uuid, target) });

// Every node action by its data-action name: a label, and either `run` (optionally
// after `confirm`) or `dialog`.
const NODE_ACTIONS = {
  manage: verb('manage', 'Manage'),
  inspect: verb('inspect', 'Inspect'),
  provide: verb('provide', 'Provide'),
  clean: { label: 'Clean…', dialog: cleanDialog },
  adopt: verb('adopt', 'Adopt'),
  active: { label: 'Deploy…', dialog: deployDialog },
  rebuild: verb('rebuild', 'Rebuild', 'Rebuild writes the image again: everything on the node\'s disks is lost.'),
  deleted: verb('deleted', 'Undeploy', 'Undeploy destroys the instance: the node is powered off and its disks are cleaned.'),
  rescue: { label: 'Rescue…', dialog: rescueDialog },
  unrescue: verb('unrescue', 'Unrescue'),
  abort: verb('abort', 'Abort', 'Abort stops the operation in progress; the node ends in a failed state from which you can retry.'),
  unhold: verb('unhold', 'Unhold'),
  'power on': power('power on', 'Power on'),
  'power off': power('power off', 'Power off', 'The machine loses power at once, without a clean shutdown.'),
  'soft power off': power('soft power off', 'Soft power off', 'The operating system is asked to shut down.'),
  rebooting: power('rebooting', 'Reboot', 'The machine is power-cycled at once, without a clean shutdown.'),
  'soft rebooting': power('soft rebooting', 'Soft reboot', 'The operating system is asked to restart.'),
  boot_device: { label: 'Boot device…', dialog: bootDeviceDialog },
  maintenance: { label: 'Maintenance…', dialog: maintenanceDialog },
  'maintenance off': { label: 'End maintenance', run: (node) => maintenanceOff(node.uuid) },
  delete: {
    label: 'Delete',
    confirm: 'The node and its ports are removed from Ferric. This cannot be undone.',
    run: (node) => api('DELETE', nodePath(node.uuid)),
  },
};

export const actionLabel = (name) => NODE_ACTIONS[name].label.replace(/…$/, '');

const nodeLabel = (node) => node.name || node.uuid;

function powerActions(node) {
  if (node.power_state === 'power on') return ['power off', 'soft power off', 'rebooting', 'soft rebooting'];
  if (node.power_state === 'power off') return ['power on'];
  return ['power on', 'power off', 'rebooting'];
}

// The toolbar's groups: [label, action names].
function actionGroups(node) {
  const other = ['boot_device', node.maintenance ? 'maintenance off' : 'maintenance'];
  if (canDelete(node)) other.push('delete');
  return [
    ['Provision', provisionTargetsFor(node.provision_state)],
    ['Power', powerActions(node)],
    ['Node', other],
  ];
}

// What a click on action `name` does: open its dialog, or confirm and run, or run.
function startAction(name, node, hooks, error) {
  const action = NODE_ACTIONS[name];
  const done = name === 'delete' ? hooks.onDeleted : hooks.onChange;
  if (action.dialog) {
    const spec = action.dialog(node);
    openDialog({ ...spec, submit: async (values) => { await spec.submit(values); done(); } });
  } else if (action.confirm) {
    openDialog({
      title: `${action.label} ${nodeLabel(node)}?`,
      text: action.confirm,
      submitLabel: action.label,
      danger: true,
      submit: async () => { await action.run(node); done(); },
    });
  } else {
    error.textContent = '';
    return action.run(node).then(done, (err) => { error.textContent = `${action.label}: ${err.message}`; });
  }
  return Promise.resolve();
}

// The node page's action toolbar. hooks: onChange() after an action was accepted,
// onDeleted() after the node was deleted.
export function nodeToolbar(node, hooks) {
  const error = el('p', { class: 'action-error', role: 'alert' });
  const groups = actionGroups(node).filter(([, names]) => names.length).map(([label, names]) =>
    el('div', { class: 'group', role: 'group', 'aria-label': label },
      el('span', { class: 'group-label' }, label),
      names.map((name) => el('button', {
        type: 'button',
        class: NODE_ACTIONS[name].confirm ? 'danger-outline' : null,
        dataset: { action: name },
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          await startAction(name, node, hooks, error);
          button.disabled = false;
        },
      }, NODE_ACTIONS[name].label))));
  return el('div', { id: 'node-actions', class: 'toolbar' }, groups, error);
}

// ---- bulk actions ---------------------------------------------------------------

const BULK_ACTIONS = [
  { action: 'manage', label: 'Manage', run: (uuid) => provision(uuid, { target: 'manage' }) },
  { action: 'provide', label: 'Provide', run: (uuid) => provision(uuid, { target: 'provide' }) },
  { action: 'power on', label: 'Power on', run: (uuid) => setPower(uuid, 'power on') },
  {
    action: 'power off', label: 'Power off', danger: true,
    text: 'The machines lose power at once, without a clean shutdown.',
    run: (uuid) => setPower(uuid, 'power off'),
  },
  {
    action: 'maintenance', label: 'Maintenance on', fields: [REASON_FIELD],
    run: (uuid, values) => maintenanceOn(uuid, values.reason),
  },
  { action: 'maintenance off', label: 'Maintenance off', run: (uuid) => maintenanceOff(uuid) },
];

// Runs work(item) over items, at most `width` at a time.
async function inPool(items, width, work) {
  const queue = [...items];
  const worker = async () => {
    while (queue.length) await work(queue.shift());
  };
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, worker));
}

// Runs one bulk action over `nodes` (Map uuid → label) in a dialog listing each
// node's outcome; onDone() when the dialog closes after a run.
function openBulk(action, nodes, onDone) {
  const results = el('ul', { class: 'bulk-results', id: 'bulk-results' });
  const tally = el('p', { class: 'bulk-tally' });
  const count = nodes.size;
  const dialog = openDialog({
    title: `${action.label}: ${count} node${count === 1 ? '' : 's'}`,
    text: action.text,
    fields: action.fields,
    extra: el('div', {}, results, tally),
    submitLabel: action.label,
    danger: action.danger,
    submit: async (values, { submitButton, cancel }) => {
      submitButton.hidden = true;
      cancel.textContent = 'Close';
      dialog.addEventListener('close', onDone);
      const outcome = { ok: 0, failed: 0 };
      const rows = new Map([...nodes].map(([uuid, label]) => {
        const result = el('span', { class: 'result' }, 'waiting…');
        results.append(el('li', { dataset: { nodeUuid: uuid } }, el('span', { class: 'label' }, label), result));
        return [uuid, result];
      }));
      await inPool(nodes.keys(), BULK_PARALLEL, async (uuid) => {
        const result = rows.get(uuid);
        result.textContent = 'running…';
        try {
          await action.run(uuid, values);
          result.textContent = 'ok';
          result.className = 'result ok';
          outcome.ok += 1;
        } catch (err) {
          result.textContent = err.message;
          result.className = 'result failed';
          outcome.failed += 1;
        }
      });
      tally.textContent = `${outcome.ok} ok, ${outcome.failed} failed.`;
      return KEEP_OPEN;
    },
  });
}

// The fleet's bulk toolbar. selected() is the current selection (Map uuid → label).
// Returns { element, update } — update() after the selection changes.
export function bulkBar(selected, onDone) {
  const count = el('span', { class: 'count' });
  const buttons = BULK_ACTIONS.map((action) => el('button', {
    type: 'button',
    class: action.danger ? 'danger-outline' : null,
    dataset: { action: action.action },
    onclick: () => openBulk(action, new Map(selected()), onDone),
  }, action.label));
  const update = () => {
    const size = selected().size;
    count.textContent = size ? `${size} selected` : 'Select nodes for bulk actions';
    for (const button of buttons) button.disabled = size === 0;
  };
  update();
  return { element: el('div', { id: 'bulk', class: 'toolbar' }, count, buttons), update };
}
