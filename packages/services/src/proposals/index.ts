export * from './create-proposal.service';
export * from './decisions.service';
export * from './proposals.service';
export * from './sweep.service';
export * from './proposal-webhook.service';
