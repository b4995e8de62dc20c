# frozen_string_literal: true

require_relative "introspection/postgresql"
require_relative "introspection/mysql"
require_relative "introspection/sqlite"

module VirtualTrainerOptimizer
  # The schema of a live database as the core's schema model (a Hash ready
  # for JSON), plus the belongs_to associations of the loaded models: tables,
  # columns, primary keys, indexes, foreign keys, row estimates and sizes.
  module Introspection
    module_function

    # `usage`: PostgreSQL index scan counts, for unused-index advice.
    def schema(connection, usage: true)
      schema = case dialect_of(connection)
               when :postgresql then PostgreSQL.schema(connection, usage: usage)
               when :mysql then MySQL.schema(connection)
               when :sqlite then SQLite.schema(connection)
               else raise ArgumentError, "no schema introspection for the #{connection.adapter_name} adapter " \
                                         "(PostgreSQL, MySQL/MariaDB and SQLite are supported)"
               end
      schema = schema.transform_keys(&:to_sym)
      schema[:associations] = associations(schema[:tables].map { |t| t[:name] || t["name"] })
      schema
    end

    # :postgresql, :mysql or :sqlite for an ActiveRecord connection (nil for
    # another adapter).
    def dialect_of(connection)
      VirtualTrainerOptimizer::ADAPTER_DIALECTS[connection.adapter_name.downcase]
    end

    # belongs_to reflections of the models loaded in this process whose
    # tables are in the schema: the foreign keys Rails knows about even
    # where the database declares none.
    def associations(table_names)
      return [] unless defined?(ActiveRecord::Base)

      load_models
      tables = table_names.to_h { |n| [n, true] }
      ActiveRecord::Base.descendants.flat_map do |model|
        next [] if model.abstract_class? || !tables[model.table_name]

        model.reflect_on_all_associations(:belongs_to).map { |r| association(model, r) }
      rescue StandardError
        [] # a model that cannot load its reflections says nothing about the schema
      end.uniq
    end

    # In a Rails app that loads code lazily, the models not used yet are not
    # loaded: load the application's code once, as production does. A file
    # that fails to load leaves its models out and nothing else.
    def load_models
      return if @models_loaded || !defined?(Rails) || !Rails.respond_to?(:application) || Rails.application.nil?

      @models_loaded = true
      Rails.application.eager_load! unless Rails.application.config.eager_load
    rescue StandardError, LoadError => e
      VirtualTrainerOptimizer.logger&.warn("[virtual_trainer_optimizer] not every model loaded for the index " \
                                           "advice (#{e.class}: #{e.message}); their associations are left out")
    end

    def association(model, reflection)
      polymorphic = reflection.polymorphic? ? true : false
      to_table = begin
        polymorphic ? nil : reflection.klass.table_name
      rescue NameError
        nil
      end
      { table: model.table_name, foreign_key: reflection.foreign_key.to_s,
        foreign_type: polymorphic ? reflection.foreign_type.to_s : nil, polymorphic: polymorphic,
        to_table: to_table }
    end
  end
end
