# Until infra/modules/stack, this root called the five modules itself. These blocks move
# an existing state's modules into the stack, so it plans to no changes
# (tests/infra/test_infra_moved.py). Removing them would destroy and recreate everything
# in a state made before the stack.

moved {
  from = module.storage
  to   = module.stack.module.storage
}

moved {
  from = module.model_endpoint
  to   = module.stack.module.model_endpoint
}

moved {
  from = module.functions
  to   = module.stack.module.functions
}

moved {
  from = module.workflow
  to   = module.stack.module.workflow
}

moved {
  from = module.monitoring
  to   = module.stack.module.monitoring
}
