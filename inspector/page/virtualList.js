// A list of fixed-height rows where only the rows in view (plus a few) exist in the DOM, so a
// list of 50 000 costs what one of 50 does. Rows are keyed: a row that stays in view keeps its
// element from one draw to the next (only its content is updated), so a click that starts on a row
// ends on the same element, and focus stays where it is. While the pointer is on the list or a row
// has the keyboard focus the list is "held": the caller keeps the order it had (see `held`), so
// nothing moves under the pointer. The scroller is the element with a fixed height.
export function createVirtualList(scroller, { rowHeight, overscan = 6, key, createRow, updateRow, onHoldChange }) {
  const spacer = document.createElement('div');
  spacer.className = 'virtual-spacer';
  spacer.setAttribute('aria-hidden', 'true');
  scroller.append(spacer);
  let items = [];
  /** key → row element, for the rows in the DOM. */
  let rows = new Map();
  let pointerInside = false;
  let focusInside = false;

  function render() {
    const first = Math.max(0, Math.floor(scroller.scrollTop / rowHeight) - overscan);
    const last = Math.min(items.length, Math.ceil((scroller.scrollTop + scroller.clientHeight) / rowHeight) + overscan);
    const height = `${items.length * rowHeight}px`;
    if (spacer.style.height !== height) spacer.style.height = height;
    const next = new Map();
    let previous = spacer;
    for (let i = first; i < last; i++) {
      const item = items[i];
      const k = key(item);
      if (next.has(k)) continue; // a duplicate key: one row
      let row = rows.get(k);
      if (!row) row = createRow(item);
      updateRow(row, item, i);
      const top = `${i * rowHeight}px`;
      if (row.style.top !== top) row.style.top = top;
      // DOM order follows the list (for Tab), moving only rows that are out of place.
      if (previous.nextSibling !== row) previous.after(row);
      previous = row;
      next.set(k, row);
    }
    for (const [k, row] of rows) if (!next.has(k) && row.parentNode === scroller) row.remove();
    rows = next;
  }

  // Told later, not inside the event: removing a focused row fires focusout in the middle of a render.
  let holdQueued = false;
  const holdChanged = () => {
    if (holdQueued) return;
    holdQueued = true;
    window.queueMicrotask(() => {
      holdQueued = false;
      onHoldChange?.(pointerInside || focusInside);
    });
  };
  scroller.addEventListener('scroll', render);
  scroller.addEventListener('pointerenter', () => {
    pointerInside = true;
    holdChanged();
  });
  scroller.addEventListener('pointerleave', () => {
    pointerInside = false;
    holdChanged();
  });
  scroller.addEventListener('focusin', () => {
    focusInside = true;
    holdChanged();
  });
  scroller.addEventListener('focusout', (event) => {
    focusInside = scroller.contains(event.relatedTarget);
    holdChanged();
  });
  return {
    setItems(next) {
      items = next;
      render();
    },
    render,
    /** Whether the pointer or the focus is on the list: keep its order. */
    get held() {
      return pointerInside || focusInside;
    },
    /** Scrolls so that item `index` is in view. */
    reveal(index) {
      const top = index * rowHeight;
      if (top < scroller.scrollTop) scroller.scrollTop = top;
      else if (top + rowHeight > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = top + rowHeight - scroller.clientHeight;
      render();
    },
  };
}

/**
 * The order to show while a list is held: the previous order (items that were shown stay where they
 * were, with their current data), then new items in their sorted order.
 */
export function heldOrder(previous, sorted, key) {
  const byKey = new Map(sorted.map((item) => [key(item), item]));
  const out = [];
  const placed = new Set();
  for (const old of previous) {
    const k = key(old);
    out.push(byKey.get(k) ?? old);
    placed.add(k);
  }
  for (const item of sorted) if (!placed.has(key(item))) out.push(item);
  return out;
}
