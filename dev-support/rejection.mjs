// The error a promise rejects with, for tests of refusals.

/** Awaits `promise` and returns what it rejects with; throws if it resolves, or rejects with something other than `type`. */
export async function rejection(promise, type) {
  let error;
  try {
    await promise;
  } catch (caught) {
    error = caught ?? new Error('rejected with nothing');
  }
  if (error === undefined) throw new Error('expected a rejection, but the promise resolved');
  if (type !== undefined && !(error instanceof type)) {
    throw new Error(`expected a ${type.name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
  return error;
}
