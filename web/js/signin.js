// Sign-in: username and password, then a TOTP code when the account has
// one enrolled (the token endpoint answers 401 "a TOTP code is required").
import { signIn } from './api.js';
import { $, h, ready, showError } from './ui.js';

const FORM = `
<div class="card signin">
  <h1 id="h-signin">Sign in to NQBA</h1>
  <form class="stack" id="signin-form" novalidate>
    <label>Username <input name="username" id="username" autocomplete="username" required></label>
    <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
    <label id="totp-row" hidden>TOTP code (6 digits from your authenticator app)
      <input name="totp" id="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="10"></label>
    <div class="actions"><button type="submit" id="signin-submit">Sign in</button></div>
    <div id="signin-msg" aria-live="polite"></div>
  </form>
</div>`;

export function render(root) {
  root.innerHTML = FORM;
  const form = $(root, '#signin-form');
  const msg = $(root, '#signin-msg');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    const totp = form.elements.totp.value.trim();
    if (!username || !password) {
      showError(msg, { detail: 'give a username and a password' }, 'Signing in');
      return;
    }
    const btn = $(root, '#signin-submit');
    btn.disabled = true;
    try {
      await signIn(username, password, $(root, '#totp-row').hidden ? '' : totp);
      location.hash = '#/overview';
    } catch (err) {
      if (err.needTotp) {
        $(root, '#totp-row').hidden = false;
        msg.replaceChildren(h('p', { class: 'note', text: 'This account uses a second factor: enter the current TOTP code.' }));
        form.elements.totp.focus();
      } else {
        showError(msg, err, 'Signing in');
      }
    } finally {
      btn.disabled = false;
    }
  });
  form.elements.username.focus();
  ready(root);
}
