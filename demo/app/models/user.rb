# frozen_string_literal: true

class User < ApplicationRecord
  belongs_to :team, optional: true
  has_many :workouts, dependent: :destroy
  has_many :completed_workouts, dependent: :delete_all
  has_many :diets, dependent: :delete_all
  has_many :notifications, dependent: :delete_all
  has_many :body_measurements, dependent: :delete_all
  has_many :ai_generation_logs, dependent: :delete_all
  has_many :injuries # nothing erases them with the account: a mistake
end
