// Renders the API's OpenAPI document with the Swagger UI bundled beside this file: no network.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The public validator would send the document to swagger.io.
    validatorUrl: null,
  });
});
