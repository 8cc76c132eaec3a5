// Added by the desktop shell (src-tauri) to the service's pages, before their own scripts.
// The service's CSP forbids inline <style>, so styles go through the CSSOM (element.style and a
// constructed stylesheet), which CSP does not restrict.
(() => {
  if (window.__passdeskShell) return;
  const KIOSK = __KIOSK__;
  const HIDE_CURSOR_MS = __HIDE_CURSOR_MS__;
  const invoke = (cmd, args) =>
    window.__TAURI_INTERNALS__ ? window.__TAURI_INTERNALS__.invoke(cmd, args) : Promise.reject(new Error('no shell'));
  const shell = (window.__passdeskShell = { kiosk: KIOSK, firstPaint: null });

  // First paint: two animation frames after the DOM is ready, the screen is on the glass.
  const painted = () =>
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        shell.firstPaint = performance.now();
        invoke('painted').catch(() => {});
      }),
    );
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', painted, { once: true });
  else painted();

  if (!KIOSK) return;

  // ---- kiosk guards -----------------------------------------------------------------------
  const hidden = new CSSStyleSheet();
  hidden.replaceSync('*, *::before, *::after { cursor: none !important; }');
  const setCursorHidden = (on) => {
    const rest = document.adoptedStyleSheets.filter((s) => s !== hidden);
    document.adoptedStyleSheets = on && shell.kiosk ? [...rest, hidden] : rest;
  };
  let idle = null;
  const moved = () => {
    setCursorHidden(false);
    clearTimeout(idle);
    if (shell.kiosk) idle = setTimeout(() => setCursorHidden(true), HIDE_CURSOR_MS);
  };
  window.addEventListener('mousemove', moved, { capture: true, passive: true });
  window.addEventListener('pointerdown', moved, { capture: true, passive: true });
  document.addEventListener('DOMContentLoaded', () => {
    moved();
    // Touch screens: no pinch zoom, no double-tap zoom.
    document.documentElement.style.touchAction = 'pan-x pan-y';
  });

  const block = (e) => {
    if (shell.kiosk) e.preventDefault();
  };
  window.addEventListener('contextmenu', block, { capture: true });
  window.addEventListener('gesturestart', block, { capture: true, passive: false });
  window.addEventListener('gesturechange', block, { capture: true, passive: false });
  window.addEventListener('wheel', (e) => e.ctrlKey && block(e), { capture: true, passive: false });
  window.addEventListener('dragstart', block, { capture: true });

  window.addEventListener(
    'keydown',
    (e) => {
      const k = e.key.toLowerCase();
      if (e.ctrlKey && e.altKey && k === 'k') {
        e.preventDefault();
        e.stopImmediatePropagation();
        if (shell.kiosk) askManagerKey();
        return;
      }
      if (!shell.kiosk) return;
      const ctrl = e.ctrlKey || e.metaKey;
      const zoom = ctrl && ['+', '-', '=', '0', '_'].includes(k);
      const devtools = k === 'f12' || (ctrl && e.shiftKey && ['i', 'j', 'c'].includes(k));
      const away = k === 'f11' || k === 'f5' || (ctrl && ['r', 'p', 'w', 'q', 'o', 's', 'u'].includes(k));
      if (zoom || devtools || away) {
        e.preventDefault();
        e.stopImmediatePropagation();
      }
    },
    { capture: true },
  );

  // ---- leaving kiosk mode: Ctrl+Alt+K and a manager key -------------------------------------
  let dialog = null;
  function askManagerKey() {
    if (dialog) {
      dialog.querySelector('input').focus();
      return;
    }
    const el = (tag, style, text) => {
      const n = document.createElement(tag);
      Object.assign(n.style, style);
      if (text) n.textContent = text;
      return n;
    };
    dialog = el('dialog', {
      font: '20px system-ui, sans-serif',
      padding: '24px',
      borderRadius: '12px',
      border: '2px solid #333',
      minWidth: '420px',
      cursor: 'auto',
    });
    dialog.dataset.testid = 'leave-kiosk';
    const form = el('form', { display: 'grid', gap: '12px' });
    form.method = 'dialog';
    const title = el('strong', { fontSize: '24px' }, 'Leave kiosk mode');
    const label = el('label', {}, 'Manager API key');
    const input = el('input', { font: 'inherit', padding: '8px' });
    input.type = 'password';
    input.autocomplete = 'off';
    input.setAttribute('aria-label', 'Manager API key');
    const error = el('div', { color: '#b91c1c', minHeight: '1.2em' });
    error.setAttribute('role', 'alert');
    const row = el('div', { display: 'flex', gap: '12px', justifyContent: 'flex-end' });
    const cancel = el('button', { font: 'inherit', padding: '8px 16px' }, 'Cancel');
    cancel.type = 'button';
    const ok = el('button', { font: 'inherit', padding: '8px 16px' }, 'Leave kiosk');
    ok.type = 'submit';
    row.append(cancel, ok);
    form.append(title, label, input, error, row);
    dialog.append(form);
    document.body.append(dialog);
    const close = () => {
      dialog.close();
      dialog.remove();
      dialog = null;
    };
    cancel.addEventListener('click', close);
    dialog.addEventListener('cancel', () => setTimeout(close));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      ok.disabled = true;
      error.textContent = 'Checking…';
      invoke('leave_kiosk', { key: input.value })
        .then(() => {
          shell.kiosk = false;
          clearTimeout(idle);
          setCursorHidden(false);
          close();
        })
        .catch((err) => {
          error.textContent = String(err);
          input.value = '';
          ok.disabled = false;
          input.focus();
        });
    });
    dialog.showModal();
    setCursorHidden(false);
    input.focus();
  }
})();
