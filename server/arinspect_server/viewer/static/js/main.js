// The QA viewer: sign in with a token, pick a section, see its model with parts coloured
// by the latest inspection run and a pin per annotation; filter, inspect, change status;
// every change by anyone arrives live through the section stream.
import { Api, ApiError, SectionStream, newOpId } from './api.js';
import { PART_COLOURS, SectionScene } from './scene.js';
import { fillOptions, renderDetail, renderLegend, renderList } from './panel.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'arinspect.token';

// The state the page shows; also read by the end-to-end tests through window.arinspectViewer.
const state = {
  api: null, me: null, workflow: null, sectionId: null, stream: null,
  annotations: new Map(), partStatus: new Map(), inspected: false, selectedId: null,
  ready: false, firstRenderMs: null, errors: [],
};
window.arinspectViewer = state;

const scene = new SectionScene($('canvas'), (pick) => {
  if (pick.annotationId) select(pick.annotationId);
  else if (pick.partId) showMessage(`part ${pick.partId}: ${statusOf(pick.partId)}`, false);
});
state.scene = scene;
renderLegend($('legend'), PART_COLOURS);

function showMessage(message, isError = true) {
  const box = $('message');
  box.textContent = message;
  box.hidden = !message;
  box.style.background = isError ? '' : '#e3f2fd';
  if (isError && message) state.errors.push(message);
}

function statusOf(partId) {
  return state.partStatus.get(partId) ?? (state.inspected ? 'present' : 'not_inspected');
}

function classOf(partId) {
  return scene.parts.get(partId)?.cls ?? '';
}

async function signIn(token) {
  const api = new Api(token);
  state.me = await api.json('/api/me');
  state.api = api;
  state.workflow = await api.json('/api/workflow');
  sessionStorage.setItem(TOKEN_KEY, token);
  $('who').textContent = `${state.me.user} (${state.me.role})`;
  for (const id of ['who', 'section-picker', 'sign-out', 'export-bcf']) $(id).hidden = false;
  $('sign-in').hidden = true;
  document.body.dataset.state = 'signed-in';
  const sections = await api.json('/api/sections');
  const picker = $('section');
  picker.replaceChildren(...sections.map((s) => new Option(`${s.name} (${s.id})`, s.id)));
  const params = new URLSearchParams(location.search);
  const wanted = params.get('section');
  if (sections.some((s) => s.id === wanted)) picker.value = wanted;
  if (!sections.length) { showMessage('no sections on this server yet'); return; }
  await openSection(picker.value);
  const linked = params.get('annotation');  // a link from an inspection report
  if (linked && state.annotations.has(linked)) await select(linked);
  else if (linked) showMessage(`annotation ${linked} is not in section ${picker.value}`);
}

async function openSection(sectionId) {
  state.ready = false;
  state.stream?.close();
  state.sectionId = sectionId;
  const api = state.api;
  const base = `/api/sections/${encodeURIComponent(sectionId)}`;
  const [section, annotations, runs, findings, model] = await Promise.all([
    api.json(base), api.json(`${base}/annotations`), api.json(`${base}/runs`),
    api.json(`${base}/findings`), api.bytes(`${base}/model`).catch((error) => error),
  ]);
  if (model instanceof ApiError) showMessage(`no 3-D model: ${model.detail}`);
  else if (model instanceof Error) throw model;
  else await scene.loadModel(model);
  setFindings(runs, findings);
  state.annotations = new Map(annotations.map((a) => [a.id, a]));
  refreshFilters();
  refreshAnnotations();
  scene.renderNow();
  state.firstRenderMs = performance.now();
  state.ready = true;
  document.body.dataset.state = 'ready';
  state.stream = new SectionStream(state.api.token, sectionId, section.head_seq, applyEvents,
    (streamState) => {
      $('live').textContent = streamState;
      $('live').classList.toggle('live', streamState === 'live');
      document.body.dataset.stream = streamState;
    });
}

// Parts take the status of their finding in the newest run; parts of an inspected
// section without a finding were present.
function setFindings(runs, findings) {
  state.inspected = runs.length > 0;
  const newest = runs.length ? runs[runs.length - 1].id : null;
  state.partStatus = new Map(findings.filter((f) => f.run_id === newest)
    .map((f) => [f.part_id, f.status]));
  scene.colourParts(statusOf);
}

function refreshFilters() {
  const all = [...state.annotations.values()];
  fillOptions($('filter-status'), new Set(all.map((a) => a.status)));
  fillOptions($('filter-class'), new Set(all.map((a) => classOf(a.part_id)).filter(Boolean)));
  fillOptions($('filter-assignee'), new Set(all.map((a) => a.assignee ?? 'unassigned')));
}

function refreshAnnotations() {
  const status = $('filter-status').value;
  const cls = $('filter-class').value;
  const assignee = $('filter-assignee').value;
  const shown = [];
  for (const a of state.annotations.values()) {
    a.visible = (!status || a.status === status) && (!cls || classOf(a.part_id) === cls)
      && (!assignee || (a.assignee ?? 'unassigned') === assignee);
    if (a.visible) shown.push(a);
  }
  shown.sort((x, y) => y.modified_at.localeCompare(x.modified_at));
  scene.setPins(state.annotations.values());
  scene.select(state.selectedId);
  $('count').textContent = `${shown.length} of ${state.annotations.size} annotations`;
  renderList($('annotations'), shown, state.selectedId, classOf, select);
}

async function select(annotationId) {
  state.selectedId = annotationId;
  scene.select(annotationId);
  for (const item of $('annotations').children) {
    item.classList.toggle('selected', item.dataset.id === annotationId);
  }
  await showDetail(annotationId);
}

// Each request for the detail takes a ticket; only the newest one renders. Requests overlap
// (a click, then a stream event about the same annotation): one that started earlier can
// answer later with older data, and must not overwrite the newer.
let detailTicket = 0;

async function showDetail(annotationId) {
  const ticket = ++detailTicket;
  const annotation = state.annotations.get(annotationId);
  if (!annotation) { $('detail').hidden = true; return; }
  const base = `/api/sections/${encodeURIComponent(state.sectionId)}/annotations/${annotationId}`;
  const [attachments, comments, events] = await Promise.all([
    state.api.json(`${base}/attachments`), state.api.json(`${base}/comments`),
    state.api.json(`${base}/history`),
  ]);
  const media = await Promise.all(attachments.map(async (attachment) => (
    { attachment, url: await mediaUrl(attachment) })));
  if (ticket !== detailTicket) return;  // a newer request (or another selection) came in
  const history = events.map((e) => ({ at: e.at, user: e.user, device: e.device,
      summary: `${e.entity} ${e.action}${e.entity === 'annotation' ? ` → ${e.data.status}` : ''}` }));
  const transitions = Object.entries(state.workflow.transitions[annotation.status] ?? {})
    .filter(([, roles]) => roles.includes(state.me.role)).map(([status]) => status);
  renderDetail($('detail'), {
    annotation, media, comments, history, transitions, canEdit: true,
    onStatus: (status) => editAnnotation(annotation, { status }, 'status change'),
    onAssign: (assignee) => editAnnotation(annotation, { assignee }, 'assignment'),
    onComment: (text) => addComment(annotation, text),
  });
}

// Attachments never change: each is fetched once, its object URL kept for the page's life.
const mediaUrls = new Map();
function mediaUrl(attachment) {
  if (!mediaUrls.has(attachment.id)) {
    mediaUrls.set(attachment.id, state.api.blobUrl(`/api/attachments/${attachment.id}`));
  }
  return mediaUrls.get(attachment.id);
}

function annotationPath(annotation) {
  return `/api/sections/${encodeURIComponent(state.sectionId)}/annotations/${annotation.id}`;
}

// A change of some fields on top of the version shown; conflicts are reported.
async function editAnnotation(annotation, fields, what) {
  try {
    const result = await state.api.patch(annotationPath(annotation), {
      op_id: newOpId(), base_version: annotation.version, ...fields,
    });
    if (result.conflicts?.length) showMessage(result.conflicts.map((c) => c.reason).join('; '));
    applyAnnotation(result.data);
    refreshFilters();
    refreshAnnotations();
    await showDetail(annotation.id);
  } catch (error) {
    showMessage(`${what} refused: ${error.detail ?? error.message}`);
  }
}

async function addComment(annotation, text) {
  try {
    await state.api.post(`${annotationPath(annotation)}/comments`, { op_id: newOpId(), text });
    await showDetail(annotation.id);
  } catch (error) {
    showMessage(`comment refused: ${error.detail ?? error.message}`);
  }
}

// Keeps the newest state of an annotation; returns whether this one was news.
function applyAnnotation(data) {
  const known = state.annotations.get(data.id);
  if (known && known.version >= data.version) return false;  // seen already, or older
  state.annotations.set(data.id, data);
  return true;
}

let findingsReload = null;
function applyEvents(events) {
  let annotationsChanged = false;
  let selectedChanged = false;
  for (const event of events) {
    if (event.entity === 'annotation') {
      const news = applyAnnotation(event.data);
      annotationsChanged ||= news;
      selectedChanged ||= news && event.id === state.selectedId;
    } else if (['comment', 'attachment'].includes(event.entity)) {
      selectedChanged ||= event.data.annotation_id === state.selectedId;
    } else if (event.entity === 'conflict') {
      showMessage(`conflict on ${event.data.field}: ${event.data.reason}`);
    } else if (event.entity === 'run') {
      findingsReload ??= reloadFindings();
    } else if (event.entity === 'model') {
      reloadModel();
    }
  }
  if (annotationsChanged) {
    refreshFilters();
    refreshAnnotations();
  }
  if (selectedChanged) showDetail(state.selectedId);
}

async function reloadFindings() {
  const base = `/api/sections/${encodeURIComponent(state.sectionId)}`;
  const [runs, findings] = await Promise.all([
    state.api.json(`${base}/runs`), state.api.json(`${base}/findings`)]);
  findingsReload = null;
  setFindings(runs, findings);
}

async function reloadModel() {
  const base = `/api/sections/${encodeURIComponent(state.sectionId)}`;
  await scene.loadModel(await state.api.bytes(`${base}/model`));
  scene.colourParts(statusOf);
  refreshAnnotations();
}

async function exportBcf(event) {
  event.preventDefault();
  const url = await state.api.blobUrl(`/api/sections/${encodeURIComponent(state.sectionId)}/bcf`);
  const link = Object.assign(document.createElement('a'), { href: url, download: `${state.sectionId}.bcf` });
  link.click();
}

function guard(action) {
  return (...args) => action(...args).catch((error) => {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      document.body.dataset.state = 'signed-out';
      $('sign-in').hidden = false;
    }
    showMessage(error.detail ? `${error.detail}` : String(error));
  });
}

$('sign-in').addEventListener('submit', guard(async (event) => {
  event.preventDefault();
  showMessage('');
  await signIn($('token').value.trim());
}));
$('sign-out').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); location.reload(); });
$('section').addEventListener('change', guard(async (event) => openSection(event.target.value)));
$('export-bcf').addEventListener('click', guard(exportBcf));
for (const id of ['filter-status', 'filter-class', 'filter-assignee']) {
  $(id).addEventListener('change', () => refreshAnnotations());
}
const stored = sessionStorage.getItem(TOKEN_KEY);
if (stored) guard(signIn)(stored);
