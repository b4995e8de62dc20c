# frozen_string_literal: true

require "rails/generators"
require "virtual_trainer_optimizer"

module VirtualTrainerOptimizer
  module Generators
    # `rails generate virtual_trainer_optimizer:install`: writes
    # config/initializers/virtual_trainer_optimizer.rb listing every option
    # with its default and what it does.
    class InstallGenerator < ::Rails::Generators::Base
      desc "Creates config/initializers/virtual_trainer_optimizer.rb with every option and its default"

      def create_initializer
        create_file "config/initializers/virtual_trainer_optimizer.rb", self.class.initializer
      end

      def self.initializer
        lines = Configuration::OPTIONS.map do |option|
          "  # #{option.doc}\n  # c.#{option.name} = #{option.default.inspect}\n"
        end
        <<~RUBY
          # frozen_string_literal: true

          # virtual_trainer_optimizer: N+1, slow and duplicate queries, and slow
          # requests and jobs, reported with the call site and the fix.
          # Every option is shown with its default; uncomment to change it.
          VirtualTrainerOptimizer.configure do |c|
          #{lines.join("\n").chomp}

            # Ignore a known finding, by location, fingerprint, SQL or kind:
            # c.allow(location: "app/services/legacy_import.rb")
          end
        RUBY
      end
    end
  end
end
