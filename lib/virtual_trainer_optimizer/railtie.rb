# frozen_string_literal: true


require "rails/railtie"
require_relative "../virtual_trainer_optimizer"
module VirtualTrainerOptimizer
  # Rails wiring: defaults from the environment, the Rack middleware, the
  # controller, ActiveJob and Sidekiq hooks, and the one SQL subscriber.
  class Railtie < ::Rails::Railtie
    config.virtual_trainer_optimizer = VirtualTrainerOptimizer.config

    initializer "virtual_trainer_optimizer.defaults", before: :load_config_initializers do |app|
      VirtualTrainerOptimizer.config.apply_rails_defaults(env: Rails.env, root: app.root,
                                                          cleaner: Rails.backtrace_cleaner)
    end

    initializer "virtual_trainer_optimizer.middleware" do |app|
      app.middleware.insert(0, Integrations::Rack)
    end

    initializer "virtual_trainer_optimizer.hooks" do
      ActiveSupport.on_load(:active_job) { include Integrations::ActiveJob }
      ActiveSupport.on_load(:active_record) do
        require_relative "migration_review"
        ActiveRecord::Migrator.prepend(MigrationReview::Hook)
      end
      Integrations::Sidekiq.install! if defined?(::Sidekiq) && ::Sidekiq.respond_to?(:configure_server)
    end

    config.after_initialize do
      c = VirtualTrainerOptimizer.config
      CallSite.reset!(c)
      CiSummary.install_at_exit if CiSummary.active?
      if c.enabled
        VirtualTrainerOptimizer.install!
        Integrations::ActionController.install!
      end
    end

    rake_tasks do
      load File.expand_path("tasks/vto.rake", __dir__)
    end

    generators do
      require_relative "../generators/virtual_trainer_optimizer/install_generator"
    end
  end
end
