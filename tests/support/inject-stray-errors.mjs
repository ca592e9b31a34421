/**
 * Preloaded (node --import) into a PBX process by tests of its safety net: on SIGUSR2 the process gets a
 * promise rejection nobody handles and an exception thrown from a timer, the two kinds of error that escape
 * every handler and that Node ends the process for by default.
 */
process.on('SIGUSR2', () => {
  void Promise.reject(new Error('injected: a rejection nobody handles'));
  setTimeout(() => {
    throw new Error('injected: an exception thrown from a timer');
  }, 0);
});
