export * from './catalog.service';
export * from './planner.service';
export * from './compatibility.service';
export * from './cost.service';
export * from './cost-metrics';
