// A list of fixed-height rows where only the rows in view (plus a few) exist in the DOM, so a
// list of 50 000 costs what one of 50 does. The scroller is the element with a fixed height.
export function createVirtualList(scroller, { rowHeight, overscan = 6, renderRow }) {
  const spacer = document.createElement('div');
  spacer.className = 'virtual-spacer';
  scroller.append(spacer);
  let items = [];

  function render() {
    const first = Math.max(0, Math.floor(scroller.scrollTop / rowHeight) - overscan);
    const last = Math.min(items.length, Math.ceil((scroller.scrollTop + scroller.clientHeight) / rowHeight) + overscan);
    spacer.style.height = `${items.length * rowHeight}px`;
    const rows = [];
    for (let i = first; i < last; i++) {
      const row = renderRow(items[i]);
      row.style.top = `${i * rowHeight}px`;
      rows.push(row);
    }
    scroller.replaceChildren(spacer, ...rows);
  }

  scroller.addEventListener('scroll', render);
  return {
    setItems(next) {
      items = next;
      render();
    },
    render,
  };
}
