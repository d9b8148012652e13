// The resource types and data sources the provider serves, one file each.
#pragma once

#include <memory>

#include "terraform/resource.h"

namespace verbatim::terraform {

std::unique_ptr<ResourceType> NewOAuthClientResource();            // verbatim_oauth_client
std::unique_ptr<ResourceType> NewRoleResource();                   // verbatim_role
std::unique_ptr<ResourceType> NewAudioHookIntegrationResource();   // verbatim_audiohook_integration
std::unique_ptr<ResourceType> NewOrganizationSettingsResource();   // verbatim_organization_settings

std::unique_ptr<DataSourceType> NewRoleDataSource();             // verbatim_role
std::unique_ptr<DataSourceType> NewAccessCheckDataSource();      // verbatim_access_check
std::unique_ptr<DataSourceType> NewEffectiveAccessDataSource();  // verbatim_effective_access

}  // namespace verbatim::terraform
