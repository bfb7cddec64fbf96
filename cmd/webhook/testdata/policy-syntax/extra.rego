package ksguard.admission

violation contains msg if {
