// The side panel: filters, the annotation list and the detail of one annotation.

const text = (value) => document.createTextNode(value ?? '');

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('data-')) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) node.append(typeof child === 'string' ? text(child) : child);
  return node;
}

export function badge(status) {
  return element('span', { class: `badge status-${status}` }, status.replace('_', ' '));
}

export function fillOptions(select, values) {
  const current = select.value;
  select.replaceChildren(element('option', { value: '' }, 'all'));
  for (const value of [...values].sort()) select.append(element('option', { value }, value));
  select.value = values.has(current) ? current : '';
}

export function renderList(list, annotations, selectedId, classOf, onSelect) {
  list.replaceChildren(...annotations.map((a) => {
    const item = element('li', { 'data-id': a.id, class: a.id === selectedId ? 'selected' : '' },
      badge(a.status), ' ', element('strong', {}, a.title), element('br'),
      element('small', {}, `${a.part_id || 'no part'} · ${classOf(a.part_id) || a.kind}`
        + ` · ${a.assignee ?? 'unassigned'}`));
    item.addEventListener('click', () => onSelect(a.id));
    return item;
  }));
}

// detail: {annotation, media: [{attachment, url}] (urls already fetched), comments, history,
//          transitions, canEdit, onStatus(status), onAssign(user|null), onComment(text)}
export function renderDetail(panel, detail) {
  const a = detail.annotation;
  const rows = [
    ['Status', badge(a.status)], ['Kind', a.kind], ['Part', a.part_id || '—'],
    ['Priority', a.priority], ['Assignee', a.assignee ?? 'unassigned'],
    ['Labels', a.labels.join(', ') || '—'], ['Created', `${a.created_by}, ${a.created_at}`],
    ['Modified', `${a.modified_by}, ${a.modified_at} (version ${a.version})`],
  ];
  const table = element('table', {}, ...rows.map(([name, value]) =>
    element('tr', {}, element('td', {}, name), element('td', {}, value))));
  // A live update re-renders the panel: the comment form of the same annotation is kept as it
  // is (the node itself), so text being typed into it, even at that very moment, stays.
  const kept = panel.dataset.id === a.id ? panel.querySelector('form.comment') : null;
  panel.dataset.id = a.id;
  panel.replaceChildren(element('h3', {}, a.title), table);
  if (a.description) {
    panel.append(element('h4', {}, a.kind === 'voice' ? 'Transcript' : 'Description'),
      element('p', { class: 'description' }, a.description));
  }
  const actions = element('div', { class: 'actions' });
  for (const status of detail.canEdit ? detail.transitions : []) {
    const button = element('button', { type: 'button', 'data-status': status }, `Set ${status}`);
    button.addEventListener('click', () => detail.onStatus(status));
    actions.append(button);
  }
  panel.append(actions);
  const assign = element('form', { class: 'assign' },
    element('input', { name: 'assignee', value: a.assignee ?? '', placeholder: 'user name',
      pattern: '[A-Za-z0-9._@\\-]{1,64}', title: 'a user name (letters, digits, . _ @ -)' }),
    element('button', { type: 'submit' }, 'Assign'));
  assign.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = assign.elements.assignee.value.trim();
    detail.onAssign(name || null);
  });
  panel.append(assign);
  // Synchronous from here on: two renders of the panel can never interleave.
  for (const { attachment, url } of detail.media) {
    if (attachment.kind === 'snapshot') {
      panel.append(element('h4', {}, 'Snapshot'), element('img', { src: url, alt: attachment.filename }));
    } else {
      panel.append(element('h4', {}, 'Voice note'),
        element('audio', { src: url, controls: true, preload: 'metadata' }));
    }
  }
  panel.append(element('h4', {}, 'Comments'), element('ul', { class: 'comments' },
    ...detail.comments.map((c) =>
      element('li', {}, element('strong', {}, c.author), ` (${c.created_at}): ${c.text}`))));
  panel.append(kept ?? commentForm(detail.onComment));
  panel.append(element('h4', {}, 'History'), element('table', { class: 'history' },
    ...detail.history.map((h) => element('tr', {},
      element('td', {}, h.at), element('td', {}, `${h.user} (${h.device})`),
      element('td', {}, h.summary)))));
  panel.hidden = false;
}

function commentForm(onComment) {
  const form = element('form', { class: 'comment' },
    element('textarea', { name: 'text', rows: 2, required: true, maxLength: 10000,
      placeholder: 'add a comment' }),
    element('button', { type: 'submit' }, 'Comment'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const textValue = form.elements.text.value.trim();
    form.elements.text.value = '';
    if (textValue) onComment(textValue);
  });
  return form;
}

export function renderLegend(legend, colours) {
  legend.replaceChildren(...Object.entries(colours).flatMap(([status, colour]) =>
    [element('span', { style: `background:${colour}` }), status.replace('_', ' ')]));
}
