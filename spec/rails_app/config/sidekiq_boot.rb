# frozen_string_literal: true

# Booted by `sidekiq -r` in spec/rails/sidekiq_spec.rb: the same app, the
# database the spec prepared.
require_relative "application"
Rails.application.initialize!
