/* global document */
// A fingerprinted script: served with `Cache-Control: public, max-age=31536000, immutable`.
const status = document.querySelector('#status');
if (status) status.textContent = 'The fingerprinted script ran.';
