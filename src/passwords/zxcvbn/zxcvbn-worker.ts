import { parentPort } from 'node:worker_threads';
import { zxcvbnEstimate } from '../../domain/passwords/strength/zxcvbn-estimate.js';
import type { ZxcvbnReply, ZxcvbnRequest } from './zxcvbn-messages.js';

// A worker thread of ZxcvbnWorkerPool: the same estimate as in the domain, on its own event loop.
// Started by zxcvbn-worker-pool.ts, which sends one request at a time and waits for its reply.
const port = parentPort;
if (port === null) throw new Error('zxcvbn-worker runs as a worker thread of ZxcvbnWorkerPool');

port.on('message', (request: ZxcvbnRequest) => {
  let reply: ZxcvbnReply;
  try {
    reply = { estimate: zxcvbnEstimate(request.password, request.userInputs) };
  } catch (error) {
    // Said to the pool (which answers 503), rather than thrown: a thrown error would end the
    // worker, and the next estimate would pay for loading the dictionaries again.
    reply = { failure: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
