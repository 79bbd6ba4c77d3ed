// Agreement measures for the scripts that check fixtures.

/** max |actual − expected| / max |expected|: the error measure the tests and reports use. */
export function maxRelativeError(actual, expected) {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}
