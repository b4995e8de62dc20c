# frozen_string_literal: true

class Diet < ApplicationRecord
  belongs_to :user
end
