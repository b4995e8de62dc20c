# frozen_string_literal: true

# Virtual Trainer's retention policies: notifications and AI logs are
# covered; api_request_logs is not (the report says so).
VirtualTrainerOptimizer::Retention.define do
  table :notifications, keep: 180.days, action: :delete, where: "read_at IS NOT NULL"
  table :ai_generation_logs, keep: 30.days, action: :delete
  table :completed_workouts, keep: :account_lifetime
  subject :users
end
