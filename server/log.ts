// During an outage ioredis reports every reconnect attempt; one line per distinct error is enough.
export function errorReporter(label: string): (error: Error) => void {
  let last = "";
  return (error) => {
    if (error.message === last) return;
    last = error.message;
    console.error(`${label}:`, error.message);
  };
}
