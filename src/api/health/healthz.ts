import { extensionOperation } from '../operation.js';

/** `/healthz` (ours, not Stytch's): the process answers. Needs no credentials, so load balancers can call it. */
export default extensionOperation({
  name: 'health.healthz',
  method: 'GET',
  url: '/healthz',
  config: { access: 'public' },
  async handle() {
    return { status: 'ok' };
  },
});
