// Loaded by offline-csp.test.mjs into a page as a same-origin script (which the CSP allows), so that
// eval runs as the page's own code (code evaluated through DevTools is exempt from the CSP).
const probe = (f) => {
  try {
    return `ran: ${f()}`;
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
};
document.documentElement.dataset.evalProbe = probe(() => eval('1 + 1'));
document.documentElement.dataset.functionProbe = probe(() => new Function('return 2')());
document.documentElement.dataset.timeoutProbe = 'not run';
setTimeout('document.documentElement.dataset.timeoutProbe = "ran"', 0);
