// Imported first (see main.tsx). Under the POSIX locale (LANG=C, as on servers and CI machines) WebKitGTK reports
// `navigator.language` as "C", which is not a language tag: libraries that format numbers with it at load time
// (uPlot does) would throw and leave the window blank. Fall back to "en-US" only in that case.

function valid(tag: string | undefined): boolean {
  try {
    return !!tag && Intl.NumberFormat.supportedLocalesOf([tag]).length >= 0 && !!new Intl.NumberFormat(tag);
  } catch {
    return false;
  }
}

if (typeof navigator !== 'undefined' && !valid(navigator.language)) {
  const fallback = 'en-US';
  Object.defineProperty(Navigator.prototype, 'language', { get: () => fallback, configurable: true });
  Object.defineProperty(Navigator.prototype, 'languages', { get: () => [fallback], configurable: true });
}

export {};
