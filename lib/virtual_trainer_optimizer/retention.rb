# frozen_string_literal: true

require "json"
require "yaml"
require_relative "introspection"
require_relative "retention/policy"
require_relative "retention/runner"
require_relative "retention/progress_bar"

module VirtualTrainerOptimizer
  # Data retention and governance: policies the app declares, and the core's
  # check of the schema against them — tables growing without a policy,
  # cleanup that would scan, personal and health (GDPR special-category)
  # columns by name and type, right-to-erasure coverage from the subject
  # table, soft-deleted rows never purged. Names only, never contents.
  module Retention
    # A run in which a table's cleanup failed (the summary says which, and why).
    class RunFailed < Error; end

    # One finding of the check. `path` (erasure gaps): the tables from the
    # subject to the uncovered one.
    class Finding
      FIELDS = %i[kind table column path category suggestion reason priority].freeze
      attr_reader(*FIELDS)

      def initialize(data)
        FIELDS.each { |f| instance_variable_set(:"@#{f}", data[f.to_s]) }
        @kind = @kind.to_sym
        @priority = @priority.to_sym
      end

      def to_h
        FIELDS.to_h { |f| [f, public_send(f)] }
      end

      def message
        "#{kind.to_s.tr('_', ' ')} [#{priority}] #{[table, column].compact.join('.')}" \
          "#{" (#{path.join(' -> ')})" if path}: #{reason}"
      end

      def inspect
        "#<#{self.class.name} #{kind} #{priority} #{[table, column].compact.join('.')}>"
      end
    end

    @lock = Mutex.new
    @definition = Definition.new

    class << self
      # Declares the policies (replacing earlier ones), e.g. in an initializer:
      #   VirtualTrainerOptimizer::Retention.define do
      #     table :api_request_logs, keep: 90.days, action: :delete
      #     subject :users
      #   end
      def define(&block)
        raise ArgumentError, "Retention.define needs a block" unless block

        definition = Definition.new
        definition.instance_eval(&block)
        @lock.synchronize { @definition = definition }
        policies
      end

      # The same from YAML (config/vto_retention.yml):
      #   subject: users
      #   tables:
      #     api_request_logs: { keep: 90 days, action: delete }
      def load_file(path)
        data = YAML.safe_load(File.read(path), permitted_classes: [], aliases: false) || {}
        raise ArgumentError, "#{path}: expected `tables:` (a mapping of table => policy)" unless data.is_a?(Hash) && data["tables"].is_a?(Hash)

        define do
          subject(data["subject"]) if data["subject"]
          data["tables"].each do |name, options|
            raise ArgumentError, "#{path}: #{name}: expected a mapping of options" unless options.is_a?(Hash)

            table(name, **options.transform_keys(&:to_sym))
          end
        end
      rescue Psych::Exception => e
        raise ArgumentError, "#{path} is not valid YAML: #{e.message}"
      rescue ArgumentError => e
        raise ArgumentError, e.message.start_with?(path.to_s) ? e.message : "#{path}: #{e.message}"
      end

      def policies
        @lock.synchronize { @definition.policies.values }
      end

      # config/vto_retention.yml under the app's root, when no policy was
      # declared in Ruby (an initializer).
      def load_default_policies(root = VirtualTrainerOptimizer.config.app_root_path)
        file = File.join(root.to_s, "config", "vto_retention.yml")
        load_file(file) if policies.empty? && File.file?(file)
      end

      def subject_table
        @lock.synchronize { @definition.subject_table }
      end

      # Forgets the policies (tests).
      def reset!
        @lock.synchronize { @definition = Definition.new }
      end

      # The governance findings for the database behind `connection`.
      def check(connection:)
        report(connection)["findings"].map { |f| Finding.new(f) }
      end

      # Every classified column ({table, column, category, encrypted,
      # special_category}), sensitive or not.
      def classification(connection:)
        report(connection)["classification"]
      end

      # Runs the cleanup plan: a dry run (counts and the SQL of each table's
      # first batch, nothing changed) unless `dry_run: false`. Options:
      # `tables:` (a subset), `max_rows:`, `max_runtime:` (seconds),
      # `pause:` (seconds between batches, 0.1), `statement_timeout:` (30) and
      # `lock_timeout:` (5, seconds), `kill_switch:` (a callable checked
      # before each batch; a String or true stops the run), `progress:`
      # (called with the table's summary after each batch), `hash_key:` (the
      # secret of hashed columns; derived from secret_key_base in Rails),
      # `now:`.
      # Returns a RunSummary.
      def run(connection:, dry_run: true, **options)
        Runner.new(connection: connection, dry_run: dry_run, **options).call
      end

      # The key of hashed anonymization when Retention.run gets no
      # `hash_key:`: derived from the Rails app's secret_key_base.
      def default_hash_key
        return nil unless defined?(Rails) && Rails.respond_to?(:application) && Rails.application.respond_to?(:key_generator)

        Rails.application.key_generator.generate_key("virtual_trainer_optimizer retention hash", 32).unpack1("H*")
      rescue StandardError
        nil
      end

      # The kill switch other processes see: a running run stops before its
      # next batch, and runs stop at once until `enable!`.
      def disable!(connection:, reason: "disabled")
        Audit.new(connection).disable!(reason)
      end

      def enable!(connection:)
        Audit.new(connection).enable!
      end

      # The last runs, from the audit table (newest first).
      def runs(connection:, limit: 20)
        audit = Audit.new(connection)
        connection.table_exists?(Audit::RUNS) ? audit.runs(limit: limit) : []
      end

      # The core's whole answer: findings, the cleanup plan, classification.
      def report(connection)
        schema = Introspection.schema(connection, usage: false)
        input = { schema: schema, subject: subject_table, policies: policies.map(&:to_h),
                  dependents: dependents, encrypted_columns: encrypted_columns }
        JSON.parse(Native.retention_check(JSON.generate(input)))
      end

      # has_many / has_one associations of the loaded models with their
      # `dependent:` option: what happens to the children when a parent goes.
      def dependents
        return [] unless defined?(ActiveRecord::Base)

        Introspection.load_models
        ActiveRecord::Base.descendants.flat_map do |model|
          next [] if model.abstract_class?

          (model.reflect_on_all_associations(:has_many) + model.reflect_on_all_associations(:has_one)).filter_map do |r|
            next if r.options[:through]

            child = begin
              r.klass.table_name
            rescue NameError
              next
            end
            { parent_table: model.table_name, child_table: child, foreign_key: r.foreign_key.to_s,
              dependent: r.options[:dependent]&.to_s, polymorphic_type: r.options[:as] ? r.type.to_s : nil }
          end
        rescue StandardError
          []
        end.uniq
      end

      # Columns encrypted by Rails (`encrypts`, Rails 7+): the schema cannot
      # tell them from plain text.
      def encrypted_columns
        return [] unless defined?(ActiveRecord::Base)

        ActiveRecord::Base.descendants.flat_map do |model|
          next [] if model.abstract_class? || !model.respond_to?(:encrypted_attributes)

          Array(model.encrypted_attributes).map { |name| { table: model.table_name, column: name.to_s } }
        rescue StandardError
          []
        end
      end
    end
  end
end
