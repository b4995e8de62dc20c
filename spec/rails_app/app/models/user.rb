# frozen_string_literal: true

class User < ApplicationRecord
  belongs_to :team, optional: true
  has_one :profile
  has_many :workouts
  has_many :completed_workouts
  has_many :diets
  has_many :comments
  has_many :body_measurements, dependent: :destroy
  has_many :ai_generation_logs, dependent: :delete_all
  has_many :injuries # nothing erases them: the erasure check must say so
end
